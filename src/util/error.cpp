// vitc::Error lives in its header; this file anchors the vtable in one object file.
#include "util/error.h"
