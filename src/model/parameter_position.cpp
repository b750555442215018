// Parameter names to block positions.
#include "model/parameter_position.h"

namespace vitc {

namespace {

// The integer after `prefix` in `name` ("blocks.12.attn..." -> 12), or -1.
int index_after(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0) return -1;
  const size_t end = name.find('.', prefix.size());
  return std::stoi(name.substr(prefix.size(), end - prefix.size()));
}

}  // namespace

int block_position(const ViTConfig& config, const std::string& parameter_name) {
  const int block = index_after(parameter_name, "blocks.");
  if (block >= 0) return block;
  const int merge = index_after(parameter_name, "merges.");
  if (merge >= 0) return config.stage_first_block(merge + 1);
  return -1;
}

}  // namespace vitc
