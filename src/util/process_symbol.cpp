// dlsym over the process's libraries (see process_symbol.h).
#include "util/process_symbol.h"

#include <dlfcn.h>

namespace vitc {

void* process_symbol_address(const char* name) { return ::dlsym(RTLD_DEFAULT, name); }

}  // namespace vitc
