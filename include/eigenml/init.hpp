#pragma once
/// \file init.hpp
/// Weight initialisers. `fan_in` / `fan_out` are the number of inputs / outputs that feed one
/// unit (for a convolution: channels x kernel x kernel).
///  - Glorot/Xavier (Glorot & Bengio, 2010): uniform in +-sqrt(6 / (fan_in + fan_out)),
///    or normal with std sqrt(2 / (fan_in + fan_out)).
///  - He/Kaiming (He et al., 2015), for ReLU: uniform in +-sqrt(6 / fan_in), or normal with
///    std sqrt(2 / fan_in).

#include <cmath>
#include <string>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/random.hpp"

namespace eigenml::init {

namespace detail_ {
inline void check_fans(const char* where, Index fan_in, Index fan_out) {
  if (fan_in <= 0 || fan_out <= 0)
    eigenml::detail::fail(where, "fan_in and fan_out must be positive, got " + std::to_string(fan_in) + " and " +
                                     std::to_string(fan_out));
}
}  // namespace detail_

template <class Derived>
void zeros(Eigen::DenseBase<Derived>& w) {
  w.setZero();
}

template <class Derived>
void glorot_uniform(Eigen::DenseBase<Derived>& w, Index fan_in, Index fan_out, Rng& rng) {
  detail_::check_fans("init::glorot_uniform", fan_in, fan_out);
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  rng.fill_uniform(w, -a, a);
}

template <class Derived>
void glorot_normal(Eigen::DenseBase<Derived>& w, Index fan_in, Index fan_out, Rng& rng) {
  detail_::check_fans("init::glorot_normal", fan_in, fan_out);
  rng.fill_normal(w, 0.0, std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

template <class Derived>
void he_uniform(Eigen::DenseBase<Derived>& w, Index fan_in, Rng& rng) {
  detail_::check_fans("init::he_uniform", fan_in, 1);
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in));
  rng.fill_uniform(w, -a, a);
}

template <class Derived>
void he_normal(Eigen::DenseBase<Derived>& w, Index fan_in, Rng& rng) {
  detail_::check_fans("init::he_normal", fan_in, 1);
  rng.fill_normal(w, 0.0, std::sqrt(2.0 / static_cast<double>(fan_in)));
}

}  // namespace eigenml::init
