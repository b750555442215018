// Size limits shared by every model family's config.
#pragma once

namespace vitc {

// Upper bounds on every size a config may hold. They are far above any real ViT (ViT-g: width
// 1408, MLP 6144, 40 blocks, 16 heads) or ResNet (2048 channels, 16 blocks per stage) and keep a
// hostile or mistyped model.json from making vitc allocate tens of gigabytes before the weights
// are compared with it.
inline constexpr int kMaxImgSize = 8192;
inline constexpr int kMaxPatches = 65536;
inline constexpr int kMaxInChans = 64;
inline constexpr int kMaxClasses = 1 << 20;
inline constexpr int kMaxWidth = 16384;  // embed_dim, each head's qk_dim and v_dim, channels
inline constexpr int kMaxMlpHidden = 65536;
inline constexpr int kMaxHeads = 1024;
inline constexpr int kMaxDepth = 1024;

}  // namespace vitc
