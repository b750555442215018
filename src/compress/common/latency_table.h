// Measuring a LatencyModel (latency_model.h) for a source ViT on this machine, and caching it on
// disk per machine, device, batch, threads, precision and LibTorch version.
//
// Measuring: random compact models are sliced from the source (each near a size drawn between 5%
// and 100%: heads, q/k and v widths, equal or uneven; MLP widths; branches removed; tokens
// dropped from a block on, for global attention), run whole `repeats` times after a warm-up with
// each block timed where it runs (median per block), and each class of equal blocks gets its
// non-negative least-squares fit in relative error. Blocks timed alone, on an input of their
// shape, were measured 15-20% off on fm_small (caches and allocation differ inside the model), so
// they are timed inside it. The dense source, timed whole, gives the fixed part (what its blocks'
// prediction leaves). Other random compact models, timed whole, check the prediction; their
// errors are stored with the table.
//
// Caching: one file per model name, batch and device under <cache dir>/latency/. A file whose
// key (host, CPU, device, batch, threads, precision, LibTorch, vitc table format, or the
// model's blocks) differs from this process's, or which cannot be read, is measured again and
// the output says why; it is never used silently.
#pragma once

#include <cstdint>
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "compress/common/latency_model.h"
#include "compress/common/latency_table_options.h"
#include "model/vit.h"

namespace vitc {

// $VITC_CACHE_DIR, else $XDG_CACHE_HOME/vitc, else $HOME/.cache/vitc, else /tmp/vitc-cache.
std::string default_cache_dir();

// What the table was measured under; a cached table is used only when this equals its own.
nlohmann::json latency_table_key(VisionTransformerImpl& source,
                                 const LatencyTableOptions& options);

struct LatencyTable {
  LatencyModel model;
  nlohmann::json measurement;  // {"rounds", "outside_blocks_ms_median"}
  nlohmann::json validation;   // [{"predicted_ratio", "measured_ratio"}] of other random models
                               // to the dense source (timed alternately)
  std::string path;           // the cache file
  std::string origin;         // "read", or why it was measured ("none cached", "stale: ...")
};

// Measures the table now (on the source's device and the process's precision); prints progress
// unless quiet.
LatencyTable measure_latency_table(VisionTransformerImpl& source,
                                   const LatencyTableOptions& options);

// The cached table for `source`, or a new measurement written atomically to the cache. Prints
// the cache file and whether it was read or measured (and why) unless quiet.
LatencyTable load_or_measure_latency_table(VisionTransformerImpl& source,
                                           const LatencyTableOptions& options);

}  // namespace vitc
