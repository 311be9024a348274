#pragma once
/// \file detail/finite.hpp
/// A vectorised finiteness check for large inputs: sum(x * 0) is 0 when every entry is finite
/// and NaN otherwise (inf * 0 = NaN, NaN propagates), in one SIMD pass without branches. Only
/// when it fails does the element-by-element search of detail::check_finite build the message.

#include <cmath>
#include <string_view>

#include "eigenml/detail/check.hpp"

namespace eigenml::detail {

template <class Derived>
void check_finite_fast(std::string_view where, std::string_view name, const Eigen::DenseBase<Derived>& x) {
  using S = typename Derived::Scalar;
  if (std::isfinite(static_cast<double>((x.derived().array() * S(0)).sum()))) return;
  check_finite(where, name, x);
}

}  // namespace eigenml::detail
