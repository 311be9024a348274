#pragma once
/// \file optim/clip_grad.hpp
/// Gradient clipping between `backward` and `step`, as PyTorch's `torch.nn.utils.clip_grad_norm_`
/// and `clip_grad_value_`.
///
/// Reference: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
/// networks" (ICML 2013), for clipping by the global norm.
///
///     clip_grad_norm:  n = (sum over all parameters and entries of |g|^2)^(1/2)
///                      c = max_norm / (n + 1e-6);  if c < 1: every g = g * c;  returns n
///     clip_grad_value: every entry g = min(max(g, -clip_value), clip_value)
///
/// Like PyTorch, `clip_grad_norm` also scales (by a factor just below 1) when n lies within 1e-6
/// under max_norm; the 1e-6 keeps c finite when all gradients are zero.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"

namespace eigenml::optim {

/// Scales all gradients together so their global L2 norm is at most about `max_norm` and
/// returns the global norm before clipping. Throws std::invalid_argument if `max_norm` is
/// negative or NaN, or if a gradient holds NaN/Inf (naming the parameter, row and column).
template <class T>
T clip_grad_norm(const std::vector<Parameter<T>*>& params, double max_norm) {
  constexpr const char* who = "clip_grad_norm";
  detail::require(max_norm >= 0, who, "max_norm", "must be >= 0, got " + std::to_string(max_norm));
  // Accumulate in double with scaling (as hypot): no overflow or underflow of the squares
  // for any finite gradient, in float or double.
  double scale = 0, sum = 1;  // norm = scale * sqrt(sum)
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i] == nullptr) detail::fail(who, "parameter " + std::to_string(i) + " is a null pointer");
    const auto& g = params[i]->grad;
    if (!g.allFinite()) detail::check_finite(who, "the grad of parameter " + std::to_string(i), g);
    const double n = static_cast<double>(g.stableNorm());
    if (n == 0) continue;
    if (n > scale) {
      sum = 1 + sum * (scale / n) * (scale / n);
      scale = n;
    } else {
      sum += (n / scale) * (n / scale);
    }
  }
  const double total = scale * std::sqrt(sum);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    const T c = static_cast<T>(coef);
    for (auto* p : params) p->grad *= c;
  }
  return static_cast<T>(total);
}

/// Clamps every gradient entry to [-clip_value, clip_value]. Throws std::invalid_argument if
/// `clip_value` is negative or NaN, or if a gradient holds NaN (which no clamp can fix); a call
/// that throws changes no gradient.
template <class T>
void clip_grad_value(const std::vector<Parameter<T>*>& params, double clip_value) {
  constexpr const char* who = "clip_grad_value";
  detail::require(clip_value >= 0, who, "clip_value", "must be >= 0, got " + std::to_string(clip_value));
  // Everything is checked before anything is clamped.
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i] == nullptr) detail::fail(who, "parameter " + std::to_string(i) + " is a null pointer");
    const auto& g = params[i]->grad;
    if (g.array().isNaN().any()) detail::check_finite(who, "the grad of parameter " + std::to_string(i), g);
  }
  const T c = static_cast<T>(clip_value);
  for (auto* p : params) p->grad = p->grad.array().max(-c).min(c).matrix();
}

}  // namespace eigenml::optim
