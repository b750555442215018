// Mask folding: row scaling of qkv and column scaling of fc2.
#include "compress/slim/fold.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

void fold_slim_masks(VisionTransformerImpl& model, const SlimMasks& masks) {
  const SlimGeometry g = slim_geometry(model.config());
  check(masks.attn.sizes() == at::IntArrayRef({g.blocks, g.max_heads, g.max_head_dim}) &&
            masks.mlp.sizes() == at::IntArrayRef({g.blocks, g.max_mlp_hidden}),
        "fold_slim_masks: masks of shapes ", masks.attn.sizes(), " and ", masks.mlp.sizes(),
        " do not fit model '", model.config().name, "'");
  torch::NoGradGuard no_grad;
  const auto& reference = model.norm->weight;  // device and dtype of the parameters
  for (int l = 0; l < g.blocks; ++l) {
    const at::Tensor z = masks.attn[l]
                             .narrow(0, 0, g.heads[l])
                             .narrow(1, 0, g.head_dim[l])
                             .reshape({-1})
                             .to(reference.device(), reference.scalar_type());
    const at::Tensor rows = torch::cat({z, z, z});  // q, k, v sections of qkv
    AttentionImpl& attn = *model.block(l)->attn;
    attn.qkv->weight.mul_(rows.unsqueeze(1));
    if (attn.qkv->bias.defined()) attn.qkv->bias.mul_(rows);
    const at::Tensor n = masks.mlp[l].narrow(0, 0, g.mlp_hidden[l]).to(reference.device(), reference.scalar_type());
    model.block(l)->mlp->fc2->weight.mul_(n.unsqueeze(0));
  }
}

}  // namespace vitc
