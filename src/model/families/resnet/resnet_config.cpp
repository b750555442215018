// ResNet configs: geometry, validation, the named configs and the JSON round trip.
#include "model/families/resnet/resnet_config.h"

#include <cmath>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "model/config_limits.h"
#include "util/error.h"
#include "util/json_read.h"

namespace vitc {
namespace {

inline constexpr int kMaxResNetStages = 8;

int conv_out_side(int side, int kernel, int stride, int padding) {
  return (side + 2 * padding - kernel) / stride + 1;
}

}  // namespace

std::vector<int> ResNetConfig::stage_depths() const {
  std::vector<int> depths(planes.size(), 0);
  for (const auto& b : blocks) {
    if (b.stage >= 0 && b.stage < num_stages()) ++depths[static_cast<size_t>(b.stage)];
  }
  return depths;
}

int ResNetConfig::stage_first_block(int s) const {
  for (int i = 0; i < depth(); ++i) {
    if (blocks[i].stage == s) return i;
  }
  fail("config '", name, "': stage ", s, " has no block");
}

bool ResNetConfig::opens_stage(int i) const {
  return i == 0 || blocks[i - 1].stage != blocks[i].stage;
}

int ResNetConfig::block_in(int i) const {
  return i == 0 ? stem_width : block_out(i - 1);
}

int ResNetConfig::block_stride(int i) const {
  return opens_stage(i) && blocks[i].stage > 0 ? 2 : 1;
}

bool ResNetConfig::block_downsamples(int i) const {
  return block_stride(i) != 1 || block_in(i) != block_out(i);
}

int ResNetConfig::stem_side() const {
  if (stem == "small") return img_size;
  return conv_out_side(conv_out_side(img_size, 7, 2, 3), 3, 2, 1);
}

int ResNetConfig::block_side_in(int i) const {
  return i == 0 ? stem_side() : block_side_out(i - 1);
}

int ResNetConfig::block_side_out(int i) const {
  int side = stem_side();
  for (int j = 0; j <= i; ++j) side = conv_out_side(side, 3, block_stride(j), 1);
  return side;
}

std::string ResNetConfig::block_name(int i) const {
  return str_cat("layer", blocks[i].stage + 1, ".", i - stage_first_block(blocks[i].stage));
}

int ResNetConfig::block_index(const std::string& block_name_wanted) const {
  for (int i = 0; i < depth(); ++i) {
    if (block_name(i) == block_name_wanted) return i;
  }
  return -1;
}

void ResNetConfig::validate() const {
  const std::string who = str_cat("config '", name, "': ");
  check(block == "basic" || block == "bottleneck", who,
        "block must be \"basic\" or \"bottleneck\", got \"", block, "\"");
  check(stem == "imagenet" || stem == "small", who,
        "stem must be \"imagenet\" (7x7 stride 2 + max pool) or \"small\" (3x3 stride 1), got \"",
        stem, "\"");
  check(in_chans > 0 && in_chans <= kMaxInChans, who, "in_chans must be in [1, ", kMaxInChans,
        "], got ", in_chans);
  check(num_classes > 0 && num_classes <= kMaxClasses, who, "num_classes must be in [1, ",
        kMaxClasses, "], got ", num_classes);
  check(stem_width > 0 && stem_width <= kMaxWidth, who, "stem_width must be in [1, ", kMaxWidth,
        "], got ", stem_width);
  check(std::isfinite(bn_eps) && bn_eps > 0, who, "bn_eps must be positive, got ", bn_eps);
  check_input_stats(mean, std, in_chans, who);
  check(!planes.empty() && num_stages() <= kMaxResNetStages, who, "planes must list 1 to ",
        kMaxResNetStages, " stages, got ", planes.size());
  for (int s = 0; s < num_stages(); ++s) {
    check(planes[s] > 0 && stage_out(s) <= kMaxWidth, who, "planes[", s, "] must be in [1, ",
          kMaxWidth / expansion(), "], got ", planes[s]);
  }
  check(!blocks.empty() && depth() <= kMaxDepth, who, "blocks must hold 1 to ", kMaxDepth,
        " blocks, got ", blocks.size());
  for (int i = 0; i < depth(); ++i) {
    const ResNetBlockSpec& b = blocks[i];
    const std::string where = str_cat(who, "blocks[", i, "].");
    check(b.stage >= 0 && b.stage < num_stages(), where, "stage must be in [0, ", num_stages() - 1,
          "], got ", b.stage);
    check(i == 0 || b.stage == blocks[i - 1].stage || b.stage == blocks[i - 1].stage + 1, where,
          "stage ", b.stage, " follows a block of stage ", i == 0 ? -1 : blocks[i - 1].stage,
          ": blocks must be listed stage by stage, every stage having at least one");
    check(static_cast<int>(b.inner.size()) == inner_convs(), where, "inner must list ",
          inner_convs(), " width(s) for a ", block, " block, got ", b.inner.size());
    for (size_t k = 0; k < b.inner.size(); ++k) {
      check(b.inner[k] > 0 && b.inner[k] <= kMaxWidth, where, "inner[", k, "] must be in [1, ",
            kMaxWidth, "], got ", b.inner[k]);
    }
  }
  check(blocks.front().stage == 0 && blocks.back().stage == num_stages() - 1, who,
        "every one of the ", num_stages(), " stages needs at least one block; the blocks span stages ",
        blocks.front().stage, " to ", blocks.back().stage);
  check(img_size > 0 && img_size <= kMaxImgSize, who, "img_size must be in [1, ", kMaxImgSize,
        "], got ", img_size);
  check(stem_side() >= 1 && block_side_out(depth() - 1) >= 1, who, "img_size ", img_size,
        " is too small for the stem and ", num_stages() - 1, " halvings");
}

bool ResNetConfig::operator==(const ResNetConfig& o) const {
  return name == o.name && img_size == o.img_size && in_chans == o.in_chans &&
         num_classes == o.num_classes && block == o.block && stem == o.stem &&
         stem_width == o.stem_width && planes == o.planes && blocks == o.blocks &&
         bn_eps == o.bn_eps && mean == o.mean && std == o.std;
}

namespace {

ResNetConfig dense_resnet(const std::string& name, const std::string& block,
                          const std::string& stem, int stem_width, const std::vector<int>& planes,
                          const std::vector<int>& depths) {
  ResNetConfig c;
  c.name = name;
  c.block = block;
  c.stem = stem;
  c.stem_width = stem_width;
  c.planes = planes;
  for (size_t s = 0; s < depths.size(); ++s) {
    const std::vector<int> inner(static_cast<size_t>(c.inner_convs()), planes[s]);
    for (int j = 0; j < depths[s]; ++j) c.blocks.push_back({static_cast<int>(s), inner});
  }
  return c;
}

const std::map<std::string, std::function<ResNetConfig()>>& registry() {
  static const std::map<std::string, std::function<ResNetConfig()>> configs = {
      {"resnet18", [] { return dense_resnet("resnet18", "basic", "imagenet", 64, {64, 128, 256, 512}, {2, 2, 2, 2}); }},
      {"resnet34", [] { return dense_resnet("resnet34", "basic", "imagenet", 64, {64, 128, 256, 512}, {3, 4, 6, 3}); }},
      {"resnet50", [] { return dense_resnet("resnet50", "bottleneck", "imagenet", 64, {64, 128, 256, 512}, {3, 4, 6, 3}); }},
      {"fm_resnet", [] {
         ResNetConfig c = dense_resnet("fm_resnet", "basic", "small", 16, {16, 32, 64}, {3, 3, 3});
         c.img_size = 28;
         c.in_chans = 1;
         c.num_classes = 10;
         c.mean = {kFashionMnistMean};
         c.std = {kFashionMnistStd};
         return c;
       }},
  };
  return configs;
}

}  // namespace

ResNetConfig named_resnet_config(const std::string& name) {
  auto it = registry().find(name);
  check(it != registry().end(), "unknown ResNet config '", name, "'; known: ",
        join(named_resnet_config_names()));
  return it->second();
}

std::vector<std::string> named_resnet_config_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : registry()) names.push_back(name);
  return names;
}

bool is_named_resnet_config(const std::string& name) { return registry().count(name) > 0; }

nlohmann::json resnet_config_to_json(const ResNetConfig& c) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : c.blocks) blocks.push_back({{"stage", b.stage}, {"inner", b.inner}});
  return {{"name", c.name},         {"img_size", c.img_size}, {"in_chans", c.in_chans},
          {"num_classes", c.num_classes}, {"block", c.block}, {"stem", c.stem},
          {"stem_width", c.stem_width}, {"planes", c.planes}, {"bn_eps", c.bn_eps},
          {"mean", c.mean},         {"std", c.std},           {"blocks", blocks}};
}

ResNetConfig resnet_config_from_json(const nlohmann::json& j, const std::string& where,
                                     const std::string& path) {
  const JsonFields f(j, where, path);
  ResNetConfig c;
  c.name = f.string("name");
  c.img_size = f.integer32("img_size", 1, kMaxImgSize);
  c.in_chans = f.integer32("in_chans", 1, kMaxInChans);
  c.num_classes = f.integer32("num_classes", 1, kMaxClasses);
  c.block = f.string("block");
  c.stem = f.string("stem");
  c.stem_width = f.integer32("stem_width", 1, kMaxWidth);
  c.planes = f.integers("planes", 1, kMaxWidth, kMaxResNetStages);
  c.bn_eps = f.number("bn_eps");
  c.mean = f.numbers("mean", kMaxInChans);
  c.std = f.numbers("std", kMaxInChans);
  const nlohmann::json& blocks = f.array("blocks", kMaxDepth);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const JsonFields fb(blocks[i], where, str_cat(path, "blocks[", i, "]."));
    c.blocks.push_back({fb.integer32("stage", 0, kMaxResNetStages - 1),
                        fb.integers("inner", 1, kMaxWidth, 2)});
  }
  try {
    c.validate();
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  return c;
}

}  // namespace vitc
