// SteCeil and LeastKSum as torch::autograd::Functions.
#include "compress/uvc/autograd.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct SteCeil : public torch::autograd::Function<SteCeil> {
  static at::Tensor forward(AutogradContext*, const at::Tensor& x) { return x.ceil(); }
  static variable_list backward(AutogradContext*, variable_list grad) { return {grad[0]}; }
};

struct LeastKSum : public torch::autograd::Function<LeastKSum> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& values, const at::Tensor& k) {
    const int64_t n = values.size(1);
    const auto sorted = values.sort(/*dim=*/1, /*descending=*/false);
    const at::Tensor sorted_values = std::get<0>(sorted);
    const at::Tensor order = std::get<1>(sorted);
    const at::Tensor positions = torch::arange(n, values.options()).unsqueeze(0);
    const at::Tensor selected = (positions < k.to(values.dtype()).unsqueeze(1)).to(values.dtype());
    // The (k+1)-th smallest value, 0 where every entry is already selected.
    const at::Tensor k_index = k.to(torch::kLong).clamp(0, n - 1).unsqueeze(1);
    const at::Tensor next = sorted_values.gather(1, k_index).squeeze(1) *
                            (k.to(values.dtype()) < n).to(values.dtype());
    ctx->save_for_backward({order, selected, next});
    ctx->saved_data["k_dtype"] = static_cast<int64_t>(k.scalar_type());
    return (sorted_values * selected).sum(1);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& order = saved[0];
    const at::Tensor& selected = saved[1];
    const at::Tensor& next = saved[2];
    const at::Tensor g = grad[0].unsqueeze(1);
    const at::Tensor grad_values = torch::zeros_like(selected).scatter(1, order, selected) * g;
    const auto k_dtype = static_cast<at::ScalarType>(ctx->saved_data["k_dtype"].toInt());
    const at::Tensor grad_k = (next * grad[0]).to(k_dtype);
    return {grad_values, grad_k};
  }
};

}  // namespace

at::Tensor ste_ceil(const at::Tensor& x) { return SteCeil::apply(x); }

at::Tensor least_k_sum(const at::Tensor& values, const at::Tensor& k) {
  check(values.dim() == 2, "least_k_sum: values must be [M, n], got ", values.sizes());
  check(k.dim() == 1 && k.size(0) == values.size(0), "least_k_sum: k must be [", values.size(0),
        "], got ", k.sizes());
  {
    torch::NoGradGuard no_grad;
    check(k.numel() == 0 || (k.min().item<double>() >= 0 &&
                             k.max().item<double>() <= static_cast<double>(values.size(1))),
          "least_k_sum: k must lie in [0, ", values.size(1), "]");
    check(k.numel() == 0 || k.eq(k.round()).all().item<bool>(),
          "least_k_sum: k must be integer-valued (pass ste_ceil of a continuous count)");
  }
  return LeastKSum::apply(values, k);
}

}  // namespace vitc
