#pragma once
/// \file detail/smooth_minimize.hpp
/// Two unconstrained minimisers for smooth convex objectives, used by the exact logistic fit.
/// Both stop when the gradient's max-norm is below `tol`, after `max_iter` iterations, or when
/// the line search can no longer make progress (rounding level).
///
/// - `newton_minimize`: damped Newton. The step solves H p = -g by Cholesky (a small multiple of
///   the identity is added if H is not numerically positive definite), then a backtracking
///   Armijo line search from the full step. Quadratic convergence near the optimum.
/// - `lbfgs_minimize`: L-BFGS (Nocedal, "Updating quasi-Newton matrices with limited storage",
///   Math. Comp. 1980; Liu & Nocedal 1989) with the two-loop recursion and a bracketing line
///   search for the Wolfe conditions (Armijo c1 = 1e-4, curvature c2 = 0.9).
///
/// Near the optimum, the decrease a step makes is below the rounding of f itself, so an exact
/// Armijo test would reject every step and the gradient could never be driven to ~1e-10. As in
/// Hager & Zhang's approximate Wolfe conditions (SIAM J. Optim. 2005), the sufficient-decrease
/// test allows f to rise by a few ulps of |f|.
///
/// The problem type provides `T value_grad(const Vector<T>& theta, Vector<T>& grad)` and, for
/// Newton, `void hessian(Eigen::Matrix<T, Dynamic, Dynamic>& H)` at the last evaluated point.

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>

#include "eigenml/core.hpp"

namespace eigenml::detail {

template <class T>
struct MinimizeResult {
  int iterations = 0;
  bool converged = false;  // gradient max-norm below tol
  T f = T(0);
  T grad_max = T(0);
};

template <class T>
T ulp_slack(T f) {
  return T(16) * std::numeric_limits<T>::epsilon() * std::abs(f);
}

template <class T, class Problem>
MinimizeResult<T> newton_minimize(Problem& problem, Vector<T>& theta, T tol, int max_iter) {
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Index p = theta.size();
  Vector<T> g(p), g_new(p), step(p), theta_new(p);
  ColMatrix H(p, p);
  Eigen::LLT<ColMatrix> llt(p);
  MinimizeResult<T> res;
  T f = problem.value_grad(theta, g);
  for (;;) {
    res.grad_max = g.template lpNorm<Eigen::Infinity>();
    if (res.grad_max < tol) {
      res.converged = true;
      break;
    }
    if (res.iterations >= max_iter || !std::isfinite(f)) break;
    ++res.iterations;

    problem.hessian(H);
    llt.compute(H);
    // Positive semidefinite H (a direction the data does not determine and no penalty fixes):
    // add mu I, growing mu until Cholesky succeeds; the step is then a Levenberg-Marquardt step.
    T mu = T(0);
    const T diag_max = std::max(H.diagonal().cwiseAbs().maxCoeff(), std::numeric_limits<T>::min());
    while (llt.info() != Eigen::Success || !llt.matrixLLT().diagonal().allFinite()) {
      mu = mu == T(0) ? diag_max * std::sqrt(std::numeric_limits<T>::epsilon()) * T(1e-4) : mu * T(100);
      if (!(mu < diag_max * T(1e6))) break;
      ColMatrix Hd = H;
      Hd.diagonal().array() += mu;
      llt.compute(Hd);
    }
    if (llt.info() == Eigen::Success) step = llt.solve(-g);
    T slope = g.dot(step);
    if (!(slope < T(0)) || !step.allFinite()) {  // not a descent direction: fall back to -g
      step = -g;
      slope = -g.squaredNorm();
    }

    // Backtracking line search from the Newton step.
    // Near the optimum the predicted decrease -slope/2 falls below the rounding error of f, which
    // for a sum of n terms is far more than a few ulps (measured: ~20 ulps for n = 1e5), so the
    // Armijo test on f accepts or rejects at random and rejected full steps degrade Newton to tiny
    // steps (W4: 42 iterations instead of 7). There f cannot judge a step and the gradient, which
    // is still accurate, can: the full step is taken when it reduces max |g| (Newton on g = 0).
    const T g_max = res.grad_max;
    const bool f_below_noise = -slope <= T(1024) * std::numeric_limits<T>::epsilon() * std::abs(f);
    T a = T(1);
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls) {
      theta_new = theta + a * step;
      const T f_new = problem.value_grad(theta_new, g_new);
      const bool noise_ok =
          ls == 0 && f_below_noise && std::isfinite(f_new) && g_new.template lpNorm<Eigen::Infinity>() < g_max;
      if (noise_ok || (std::isfinite(f_new) && f_new <= f + T(1e-4) * a * slope + ulp_slack(f))) {
        theta.swap(theta_new);
        g.swap(g_new);
        f = f_new;
        accepted = true;
        break;
      }
      a *= T(0.5);
    }
    if (!accepted) {
      // Re-evaluate at theta so the problem's state matches the returned point.
      f = problem.value_grad(theta, g);
      res.grad_max = g.template lpNorm<Eigen::Infinity>();
      res.converged = res.grad_max < tol;
      break;
    }
  }
  res.f = f;
  return res;
}

template <class T, class Problem>
MinimizeResult<T> lbfgs_minimize(Problem& problem, Vector<T>& theta, T tol, int max_iter, int memory = 10) {
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const Index p = theta.size();
  ColMatrix S(p, memory), Y(p, memory);  // s_k = theta_{k+1} - theta_k, y_k = g_{k+1} - g_k
  Vector<T> rho(memory), alpha(memory);
  Vector<T> g(p), g_new(p), dir(p), theta_new(p);
  int stored = 0, newest = -1;
  MinimizeResult<T> res;
  T f = problem.value_grad(theta, g);
  for (;;) {
    res.grad_max = g.template lpNorm<Eigen::Infinity>();
    if (res.grad_max < tol) {
      res.converged = true;
      break;
    }
    if (res.iterations >= max_iter || !std::isfinite(f)) break;
    ++res.iterations;

    // Two-loop recursion: dir = -H_k g with H_0 = (s^T y / y^T y) I.
    dir = -g;
    for (int j = 0; j < stored; ++j) {
      const int k = (newest - j + memory) % memory;
      alpha(k) = rho(k) * S.col(k).dot(dir);
      dir -= alpha(k) * Y.col(k);
    }
    if (stored > 0) dir *= S.col(newest).dot(Y.col(newest)) / Y.col(newest).squaredNorm();
    for (int j = stored - 1; j >= 0; --j) {
      const int k = (newest - j + memory) % memory;
      const T beta = rho(k) * Y.col(k).dot(dir);
      dir += (alpha(k) - beta) * S.col(k);
    }
    T slope = g.dot(dir);
    if (!(slope < T(0))) {  // lost positive definiteness to rounding: restart from steepest descent
      stored = 0;
      dir = -g;
      slope = -g.squaredNorm();
    }

    // Wolfe line search by bracketing. First iteration: a step of unit length.
    T a = stored == 0 ? std::min(T(1), T(1) / std::sqrt(g.squaredNorm())) : T(1);
    T lo = T(0), hi = std::numeric_limits<T>::infinity();
    bool accepted = false;
    T f_new = f;
    for (int ls = 0; ls < 60; ++ls) {
      theta_new = theta + a * dir;
      f_new = problem.value_grad(theta_new, g_new);
      if (!std::isfinite(f_new) || f_new > f + T(1e-4) * a * slope + ulp_slack(f)) {
        hi = a;
      } else if (g_new.dot(dir) < T(0.9) * slope) {
        lo = a;  // too short: the slope is still steep
        if (std::isinf(hi)) {
          a *= T(2);
          continue;
        }
      } else {
        accepted = true;
        break;
      }
      a = std::isinf(hi) ? a * T(2) : (lo + hi) / T(2);
      if (hi - lo <= std::numeric_limits<T>::epsilon() * hi) break;
    }
    if (!accepted) {
      // Accept a point that at least satisfied sufficient decrease (lo > 0), else stop.
      if (lo > T(0)) {
        theta_new = theta + lo * dir;
        f_new = problem.value_grad(theta_new, g_new);
        accepted = std::isfinite(f_new) && f_new <= f + ulp_slack(f);
      }
      if (!accepted) {
        f = problem.value_grad(theta, g);
        res.grad_max = g.template lpNorm<Eigen::Infinity>();
        res.converged = res.grad_max < tol;
        break;
      }
    }
    // Curvature pair (skipped when s^T y is not safely positive).
    const int slot = (newest + 1) % memory;
    S.col(slot) = theta_new - theta;
    Y.col(slot) = g_new - g;
    const T sy = S.col(slot).dot(Y.col(slot));
    if (sy > std::numeric_limits<T>::epsilon() * S.col(slot).norm() * Y.col(slot).norm()) {
      rho(slot) = T(1) / sy;
      newest = slot;
      stored = std::min(stored + 1, memory);
    }
    theta.swap(theta_new);
    g.swap(g_new);
    f = f_new;
  }
  res.f = f;
  return res;
}

}  // namespace eigenml::detail
