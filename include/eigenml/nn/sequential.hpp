#pragma once
/// \file nn/sequential.hpp
/// `Sequential`: layers applied one after another, composed at run time behind `Layer<T>` (one
/// virtual call per layer per batch), and the mini-batch training loop `fit`.
///
/// Training step (per mini-batch of n rows):
///   P = f_L(...f_1(X_b))          forward, every layer keeps what its backward needs
///   l = loss.forward(P, y_b)      mean over the batch
///   dL/dP = loss.backward()       backward through the layers in reverse, each layer sets its
///   optimizer.step(parameters())  parameters' grad (overwriting); then one optimizer update.
/// The batches are gathered into buffers allocated once per fit, the parameter list is built once,
/// and layers reuse their buffers, so a step with the same batch size allocates nothing.

#include <algorithm>
#include <concepts>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/check.hpp"
#include "eigenml/detail/progress.hpp"
#include "eigenml/init.hpp"
#include "eigenml/nn/dense.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/optim/lr_scheduler.hpp"
#include "eigenml/optim/optimizer.hpp"
#include "eigenml/random.hpp"

namespace eigenml::nn {

/// Stop when the monitored loss (validation loss when `fit` has validation data, else the
/// training loss) has not improved by more than `min_delta` for `patience` epochs in a row.
/// With `restore_best_weights`, the network ends with the parameters of its best epoch (whether
/// it stopped early or ran every epoch).
struct EarlyStopping {
  int patience = 5;
  double min_delta = 0.0;
  bool restore_best_weights = true;

  void validate() const {
    detail::require(patience >= 1, "EarlyStopping", "patience", "must be >= 1, got " + std::to_string(patience));
    detail::require(std::isfinite(min_delta) && min_delta >= 0.0, "EarlyStopping", "min_delta",
                    "must be finite and >= 0, got " + std::to_string(min_delta));
  }
};

/// What `fit` does at the end of every epoch, in this order (all optional). The *monitored* loss
/// is the validation loss when `fit` has validation data, else the epoch's training loss.
///  1. `early_stopping`: track the monitored loss, remember the best weights, maybe stop;
///  2. `lr_scheduler->step(monitored)`: set the learning rate of the next epoch (any
///     `optim::LRScheduler`, e.g. `StepLR`, `CosineAnnealingLR`, or `ReduceLROnPlateau`, which
///     watches the monitored loss); it must drive the optimizer passed to `fit`;
///  3. `on_epoch_end(epoch, history, monitored)`: any user code (logging, checkpoints, a
///     hand-made schedule); `epoch` is 1-based. Returning false stops training after this epoch.
template <class T>
struct FitCallbacks {
  std::optional<EarlyStopping> early_stopping{};
  optim::LRScheduler<T>* lr_scheduler = nullptr;
  std::function<bool(int epoch, const History& history, double monitored)> on_epoch_end{};
};

/// A network of layers applied in order: `Y = f_L(...f_2(f_1(X)))`.
///
/// Layers are owned (`add` takes them by value); copies are deep (each copy has its own weights
/// and buffers). `forward`/`predict` write into buffers the layers own, so one instance must not be
/// used by two threads at once: give every worker thread its own copy. `Sequential` is itself a
/// `Layer`, so networks nest.
///
/// Initialisation: each layer starts as its constructor made it (`Dense`: Glorot uniform from its
/// own seed, zero bias). `initialize(seed)` re-draws every parameter of the network from one
/// `Rng(seed)`, layer by layer in order: He uniform for a layer followed by ReLU, LeakyReLU or
/// GELU, Glorot uniform otherwise, zero for biases (`n x 1` parameters). `fit` never
/// re-initialises, so a loaded or pre-trained network can be fine-tuned.
template <class T>
class Sequential final : public LayerBase<Sequential<T>, T> {
 public:
  Sequential() = default;

  Sequential(const Sequential& other)
      : LayerBase<Sequential<T>, T>(other), in_(other.in_), width_(other.width_), first_backward_(other.first_backward_) {
    layers_.reserve(other.layers_.size());
    for (const auto& l : other.layers_) layers_.push_back(l->clone());
  }
  Sequential& operator=(const Sequential& other) {
    if (this != &other) {
      Sequential copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;
  ~Sequential() override = default;

  /// Appends a copy of (or moves in) `layer`. Throws std::invalid_argument when the layer's input
  /// width differs from the width the network outputs so far.
  template <class L>
    requires std::derived_from<std::remove_cvref_t<L>, Layer<T>>
  Sequential& add(L&& layer) {
    return add(std::unique_ptr<Layer<T>>(std::make_unique<std::remove_cvref_t<L>>(std::forward<L>(layer))));
  }

  /// Appends an already allocated layer (used by model loading).
  Sequential& add(std::unique_ptr<Layer<T>> layer) {
    if (!layer) detail::fail("Sequential::add", "layer is null");
    const Index expects = layer->input_size();
    if (expects >= 0 && width_ >= 0 && expects != width_)
      detail::fail("Sequential::add", layer->name() + " (layer " + std::to_string(layers_.size()) + ") expects " +
                                          std::to_string(expects) + " inputs but the previous layer (" +
                                          layers_.back()->name() + ") outputs " + std::to_string(width_));
    // All layers so far keep the width unchanged: this layer fixes the network's input width.
    if (expects >= 0 && width_ < 0) in_ = expects;
    width_ = layer->output_size(width_ >= 0 ? width_ : expects);
    layer->set_training(this->training_);
    layers_.push_back(std::move(layer));
    update_input_grad();
    return *this;
  }

  std::size_t size() const { return layers_.size(); }
  bool empty() const { return layers_.empty(); }

  /// The `i`-th layer (0-based); throws std::out_of_range.
  Layer<T>& layer(std::size_t i) {
    check_index(i);
    return *layers_[i];
  }
  const Layer<T>& layer(std::size_t i) const {
    check_index(i);
    return *layers_[i];
  }

  /// X: N x input_size() -> N x output width, through every layer.
  const Matrix<T>& forward(const Matrix<T>& X) override {
    return through_layers("Sequential::forward", X, &Layer<T>::forward);
  }

  /// `forward` through each layer's `infer` (see Layer::infer), in the current mode.
  const Matrix<T>& infer(const Matrix<T>& X) override {
    return through_layers("Sequential::infer", X, &Layer<T>::infer);
  }

  /// dY: dL/d(output) -> dL/dX, through the layers in reverse; sets every parameter's grad.
  /// Without `needs_input_grad()`, returns an empty matrix and stops at the first layer that has
  /// parameters (see `set_needs_input_grad`).
  const Matrix<T>& backward(const Matrix<T>& dY) override {
    if (layers_.empty()) detail::fail("Sequential::backward", "the network has no layers");
    const Matrix<T>* g = &dY;
    for (std::size_t i = layers_.size(); i-- > first_backward_;) g = &layers_[i]->backward(*g);
    if (!this->needs_input_grad()) return no_grad_;
    return *g;
  }

  /// Whether `backward` must return dL/dX (default true, as for every layer). With false, the
  /// network's input is treated as data that needs no gradient (PyTorch: an input without
  /// `requires_grad`): backward stops at the first layer that has parameters, which skips that
  /// layer's dL/dX (for a Dense first layer, a third of its backward work) and the backward of any
  /// parameter-free layers before it. Parameter gradients are unchanged. `fit` trains this way.
  /// A nested `Sequential` is told by its parent whether its dL/dX is needed.
  void set_needs_input_grad(bool needed) override {
    this->needs_input_grad_ = needed;
    update_input_grad();
  }

  /// Every layer's parameters, layers in order, each layer's in its own order.
  std::vector<Parameter<T>*> parameters() override {
    std::vector<Parameter<T>*> all;
    for (auto& l : layers_) {
      auto p = l->parameters();
      all.insert(all.end(), p.begin(), p.end());
    }
    return all;
  }

  void set_training(bool training) override {
    this->training_ = training;
    for (auto& l : layers_) l->set_training(training);
  }

  /// Values per input sample, or -1 while no layer fixes it.
  Index input_size() const override { return in_; }
  Index output_size(Index input_size) const override {
    Index w = input_size;
    for (const auto& l : layers_) w = l->output_size(w);
    return w;
  }
  std::string name() const override { return "Sequential"; }

  /// Re-draws every parameter from `Rng(seed)` (see the class comment): same seed, bit-identical
  /// weights. Fans of a generic `r x c` weight: fan_in = c, fan_out = r.
  void initialize(std::uint64_t seed) {
    Rng rng(seed);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const bool relu_next = i + 1 < layers_.size() && is_relu_like(layers_[i + 1]->name());
      const Init kind = relu_next ? Init::he_uniform : Init::glorot_uniform;
      if (auto* dense = dynamic_cast<Dense<T>*>(layers_[i].get())) {
        dense->initialize(kind, rng);
        continue;
      }
      for (auto* p : layers_[i]->parameters()) {
        if (p->value.cols() == 1) {
          p->value.setZero();  // bias
        } else if (kind == Init::he_uniform) {
          eigenml::init::he_uniform(p->value, p->value.cols(), rng);
        } else {
          eigenml::init::glorot_uniform(p->value, p->value.cols(), p->value.rows(), rng);
        }
        p->grad.setZero();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Training and inference

  /// Trains on (X, targets) by mini-batch gradient descent: `options.epochs` passes, batches of
  /// `options.batch_size` rows (0 = the whole set), rows reshuffled every epoch from
  /// `Rng(options.seed)` when `options.shuffle`. `targets` are `Labels` (class indices, for
  /// `CrossEntropyLoss`) or a matrix/vector with one row per sample (for `MSELoss`,
  /// `BCEWithLogitsLoss`). Returns the mean training loss of every epoch (the mean over samples
  /// of the batch losses). Runs in training mode and restores the mode it found.
  ///
  /// Throws std::invalid_argument on bad data (empty, wrong feature count, NaN/Inf, rows not
  /// matching, labels outside 0..K-1) and std::runtime_error naming the epoch and batch when the
  /// loss becomes NaN or infinite (the weights are then left as the failing step found them).
  template <class Loss, class Target>
  History fit(Eigen::Ref<const Matrix<T>> X, const Target& targets, Loss& loss, optim::Optimizer<T>& optimizer,
              const TrainOptions& options, const FitCallbacks<T>& callbacks = {}) {
    return fit_impl<Loss, Target>(X, targets, loss, optimizer, options, nullptr, nullptr, callbacks);
  }

  /// As above, and after every epoch evaluates the loss on (X_val, y_val) (`History::val_loss`)
  /// and, for `Labels` targets, the accuracy of the row-wise argmax (`History::val_accuracy`).
  /// Early stopping then watches the validation loss.
  template <class Loss, class Target>
  History fit(Eigen::Ref<const Matrix<T>> X, const Target& targets, Loss& loss, optim::Optimizer<T>& optimizer,
              const TrainOptions& options, Eigen::Ref<const Matrix<T>> X_val, const Target& y_val,
              const FitCallbacks<T>& callbacks = {}) {
    return fit_impl<Loss, Target>(X, targets, loss, optimizer, options, &X_val, &y_val, callbacks);
  }

  /// The network's outputs for X (N x output width), in evaluation mode; leaves the
  /// training/evaluation mode as it found it. At most `batch_size` rows go through the network at
  /// a time (bounded memory), fewer where that keeps a pass's activations in cache
  /// (`inference_rows`).
  Matrix<T> predict(Eigen::Ref<const Matrix<T>> X, Index batch_size = 256) {
    check_input("Sequential::predict", X);
    detail::require(batch_size >= 1, "Sequential::predict", "batch_size", "must be >= 1");
    ModeGuard guard(*this, false);
    Matrix<T> out;
    const Index N = X.rows(), rows = inference_rows(X.cols(), N, batch_size);
    for (Index start = 0; start < N; start += rows) {
      const Index n = std::min(rows, N - start);
      const Matrix<T>& Y = infer_pass(X, start, n, rows);
      if (start == 0) out.resize(N, Y.cols());
      out.middleRows(start, n) = Y.topRows(n);
    }
    return out;
  }

  /// Mean loss over (X, targets) in evaluation mode, at most `batch_size` rows at a time (as
  /// `predict`); leaves the mode as it found it.
  template <class Loss, class Target>
  double evaluate(Eigen::Ref<const Matrix<T>> X, const Target& targets, Loss& loss, Index batch_size = 256) {
    check_input("Sequential::evaluate", X);
    check_targets("Sequential::evaluate", X, targets);
    detail::require(batch_size >= 1, "Sequential::evaluate", "batch_size", "must be >= 1");
    return evaluate_impl(X, targets, loss, batch_size, nullptr);
  }

 private:
  template <class Target>
  static constexpr bool is_labels_v = std::is_integral_v<typename Target::Scalar>;

  /// Sets a mode for a scope and restores the previous one (also on exceptions).
  struct ModeGuard {
    ModeGuard(Sequential& net, bool training) : net_(net), previous_(net.training()) { net_.set_training(training); }
    ~ModeGuard() { net_.set_training(previous_); }
    ModeGuard(const ModeGuard&) = delete;
    ModeGuard& operator=(const ModeGuard&) = delete;
    Sequential& net_;
    bool previous_;
  };

  /// Clears `needs_input_grad` for a scope and restores it (also on exceptions).
  struct InputGradGuard {
    explicit InputGradGuard(Sequential& net) : net_(net), previous_(net.needs_input_grad()) {
      net_.set_needs_input_grad(false);
    }
    ~InputGradGuard() { net_.set_needs_input_grad(previous_); }
    InputGradGuard(const InputGradGuard&) = delete;
    InputGradGuard& operator=(const InputGradGuard&) = delete;
    Sequential& net_;
    bool previous_;
  };

  /// Sets `first_backward_` and every layer's `needs_input_grad`: with the network's own flag set,
  /// every layer passes its gradient back; otherwise backward starts nothing before the first
  /// layer with parameters, and that layer computes no dL/dX.
  void update_input_grad() {
    first_backward_ = 0;
    if (!this->needs_input_grad())
      while (first_backward_ < layers_.size() && layers_[first_backward_]->parameters().empty()) ++first_backward_;
    for (std::size_t i = 0; i < layers_.size(); ++i)
      layers_[i]->set_needs_input_grad(this->needs_input_grad() || i > first_backward_);
  }

  [[noreturn]] static void diverged(int epoch, Index batch, Index batches, const std::string& what) {
    throw std::runtime_error("Sequential::fit: " + what + " at epoch " + std::to_string(epoch) + ", batch " +
                             std::to_string(batch) + " of " + std::to_string(batches) +
                             "; training diverged (try a smaller learning rate or scale the inputs)");
  }

  static bool is_relu_like(const std::string& name) { return name == "ReLU" || name == "LeakyReLU" || name == "GELU"; }

  void check_index(std::size_t i) const {
    if (i >= layers_.size())
      throw std::out_of_range("Sequential::layer: index " + std::to_string(i) + " out of range for " +
                              std::to_string(layers_.size()) + " layers");
  }

  void check_input(const char* where, const Eigen::Ref<const Matrix<T>>& X) const {
    if (layers_.empty()) detail::fail(where, "the network has no layers");
    detail::check_nonempty(where, "X", X);
    if (in_ >= 0 && X.cols() != in_)
      detail::fail(where, "X has " + std::to_string(X.cols()) + " features per sample (shape " + detail::shape_of(X) +
                              ") but the network expects " + std::to_string(in_));
    detail::check_finite(where, "X", X);
  }

  template <class Target>
  void check_targets(const char* where, const Eigen::Ref<const Matrix<T>>& X, const Target& y) const {
    detail::check_rows(where, "X", X.rows(), "targets", y.rows());
    const Index out = output_size(X.cols());
    if constexpr (is_labels_v<Target>) {
      if (y.cols() != 1) detail::fail(where, "labels must be one column, got shape " + detail::shape_of(y));
      // One logit per class: labels must index a column of the output.
      if (out >= 1) detail::check_labels(where, y, out == 1 ? 2 : out);
    } else {
      if (out >= 0 && y.cols() != out)
        detail::fail(where, "targets have " + std::to_string(y.cols()) + " columns (shape " + detail::shape_of(y) +
                                ") but the network outputs " + std::to_string(out) + " values per sample");
      detail::check_finite(where, "targets", y);
    }
  }

  /// Row `from` of `src` into row `to` of `dst` (one value, for labels). A row of a row-major batch
  /// is contiguous, so it is one plain copy (and one compiled loop for every source type).
  template <class Src, class Dst>
  static void copy_row(const Src& src, Index from, Dst& dst, Index to) {
    if constexpr (Src::IsVectorAtCompileTime)
      dst(to) = src(from);
    else if constexpr (Src::IsRowMajor && Src::InnerStrideAtCompileTime == 1)
      std::copy_n(src.data() + from * src.outerStride(), src.cols(), dst.data() + to * dst.cols());
    else
      dst.row(to) = src.row(from);
  }

  /// Rows `idx[0..n)` of `src` into the first n rows of `dst` (already sized).
  template <class Src, class Dst>
  static void gather_rows(const Src& src, const Index* idx, Index n, Dst& dst) {
    for (Index i = 0; i < n; ++i) copy_row(src, idx[i], dst, i);
  }

  /// `infer` on rows start .. start+n-1 of X, a pass of n < rows padded with zero rows to `rows`:
  /// every layer then keeps its buffers, where a new row count would reallocate each of them (in a
  /// test program, W1's 256 rows as passes of 150 + 106 took 2.6x the time of 128 + 128).
  const Matrix<T>& infer_pass(const Eigen::Ref<const Matrix<T>>& X, Index start, Index n, Index rows) {
    copy_rows(X, start, n, eval_X_, rows);
    return infer(eval_X_);
  }

  /// X through every layer's `pass` (forward or infer), one virtual call per layer.
  const Matrix<T>& through_layers(const char* where, const Matrix<T>& X,
                                  const Matrix<T>& (Layer<T>::*pass)(const Matrix<T>&)) {
    if (layers_.empty()) detail::fail(where, "the network has no layers");
    if (in_ >= 0) detail::check_cols(where, "X", X, in_);
    const Matrix<T>* h = &X;
    for (auto& l : layers_) h = &((*l).*pass)(*h);
    return *h;
  }

  /// Rows `first .. first+n-1` of `src` into `dst`, resized to `size` >= n rows (n by default),
  /// the rows past n zero.
  template <class Src, class Dst>
  static void copy_rows(const Src& src, Index first, Index n, Dst& dst, Index size = -1) {
    if (size < 0) size = n;
    if constexpr (Dst::IsVectorAtCompileTime)
      dst.resize(size);
    else
      dst.resize(size, src.cols());
    for (Index i = 0; i < n; ++i) copy_row(src, first + i, dst, i);
    if constexpr (Dst::IsVectorAtCompileTime)
      dst.tail(size - n).setZero();
    else
      dst.bottomRows(size - n).setZero();
  }

  /// Bytes of one pass's widest layer input + output that `inference_rows` keeps in cache: half
  /// or less of a current server core's L2 (512 KB to 2 MB), so the rest of the pass fits too.
  static constexpr Index inference_cache_bytes = Index(256) << 10;

  /// Rows per forward pass for `predict` and `evaluate` over N rows (inputs `width` wide): at most
  /// `batch_size`, and as many as keep the widest layer's input and output within
  /// `inference_cache_bytes`, so each layer reads what the previous one wrote from cache rather than
  /// memory; but at least as many as make a pass's activations outweigh its parameters, which
  /// every pass reads again (and its matrix products pack again). W2's convolutional network
  /// (50 KB of ReLU input + output per row) then runs 5 rows at a time, which measured 1.5x
  /// faster than 256 at once; an MLP 784-256-128-10 (235k parameters, 1.6k activations per row)
  /// stays at 150 rows. The N rows then go in as many passes as that bound needs, ceil(N / passes)
  /// rows each, the last one shorter when N is not a multiple (W1's 256 rows as 128 + 128, not
  /// 150 + 106) and padded with zero rows to the others' count, so the layers keep their buffers.
  /// Rows never interact in evaluation mode, so the outputs are those of one pass over the batch
  /// up to the matrix products' rounding (their blocking, and so their order of summation, may
  /// depend on the row count).
  Index inference_rows(Index width, Index N, Index batch_size) {
    Index widest = 1, activations = width, w = width, params = 0;
    for (const auto& l : layers_) {
      const Index out = l->output_size(w);
      widest = std::max(widest, w + out);
      activations += out;
      w = out;
    }
    for (const auto* p : parameters()) params += p->value.size();
    const Index cache_rows = inference_cache_bytes / (widest * Index(sizeof(T)));
    const Index param_rows = params / std::max<Index>(activations, 1);
    const Index most = std::clamp(std::max(cache_rows, param_rows), Index(1), batch_size);
    if (N <= most) return std::max(N, Index(1));
    const Index passes = (N + most - 1) / most;
    return (N + passes - 1) / passes;
  }

  template <class Target>
  using TargetBuffer = std::conditional_t<is_labels_v<Target>, Labels, Matrix<T>>;

  /// Mean loss (and, when `accuracy` is given, the argmax accuracy) in evaluation mode.
  template <class Loss, class Target>
  double evaluate_impl(const Eigen::Ref<const Matrix<T>>& X, const Target& y, Loss& loss, Index batch_size,
                       double* accuracy) {
    ModeGuard guard(*this, false);
    TargetBuffer<Target> yb;
    const Index N = X.rows(), rows = inference_rows(X.cols(), N, batch_size);
    double total = 0.0;
    Index correct = 0;
    for (Index start = 0; start < N; start += rows) {
      const Index n = std::min(rows, N - start);
      copy_rows(y, start, n, yb);
      const Matrix<T>& full = infer_pass(X, start, n, rows);  // the loss sees only the n rows
      if (n < rows) eval_P_ = full.topRows(n);
      const Matrix<T>& P = n < rows ? eval_P_ : full;
      total += static_cast<double>(loss.forward(P, yb)) * static_cast<double>(n);
      if constexpr (is_labels_v<Target>) {
        if (accuracy) {
          for (Index i = 0; i < n; ++i) {
            Index pred = 0;
            if (P.cols() == 1)
              pred = P(i, 0) > T(0) ? 1 : 0;
            else
              P.row(i).maxCoeff(&pred);
            correct += pred == yb(i) ? 1 : 0;
          }
        }
      }
    }
    if (accuracy) *accuracy = static_cast<double>(correct) / static_cast<double>(N);
    return total / static_cast<double>(N);
  }

  template <class Loss, class Target>
  History fit_impl(const Eigen::Ref<const Matrix<T>>& X, const Target& y, Loss& loss, optim::Optimizer<T>& optimizer,
                   const TrainOptions& options, const Eigen::Ref<const Matrix<T>>* X_val, const Target* y_val,
                   const FitCallbacks<T>& callbacks) {
    constexpr const char* where = "Sequential::fit";
    options.validate();
    if (callbacks.early_stopping) callbacks.early_stopping->validate();
    if (callbacks.lr_scheduler && &callbacks.lr_scheduler->optimizer() != &optimizer)
      detail::fail(where, "callbacks.lr_scheduler drives a different optimizer than the one passed to fit");
    check_input(where, X);
    check_targets(where, X, y);
    if (X_val) {
      check_input(where, *X_val);
      detail::check_cols(where, "X_val", *X_val, X.cols());
      check_targets(where, *X_val, *y_val);
    }

    ModeGuard guard(*this, true);
    InputGradGuard no_input_grad(*this);  // fit never reads dL/dX
    const Index N = X.rows();
    const Index B = (options.batch_size == 0 || options.batch_size >= N) ? N : Index(options.batch_size);
    const Index batches = (N + B - 1) / B;
    const Index tail = N - (batches - 1) * B;  // rows of the last batch (== B when B divides N)

    // Everything a step touches is allocated here, once.
    const std::vector<Parameter<T>*> params = parameters();
    std::vector<Index> order(static_cast<std::size_t>(N));
    std::iota(order.begin(), order.end(), Index(0));
    Matrix<T> Xb(B, X.cols()), Xt(tail < B ? tail : 0, X.cols());
    TargetBuffer<Target> yb, yt;
    if constexpr (is_labels_v<Target>) {
      yb.resize(B);
      yt.resize(tail < B ? tail : 0);
    } else {
      yb.resize(B, y.cols());
      yt.resize(tail < B ? tail : 0, y.cols());
    }
    if (batches == 1) {  // full batch: gather once, the order of rows does not change the gradient
      copy_rows(X, 0, N, Xb);
      copy_rows(y, 0, N, yb);
    }

    Rng rng(options.seed);
    History history;
    history.loss.reserve(static_cast<std::size_t>(options.epochs));
    detail::ProgressBar progress(options.progress, options.epochs, batches, N);

    // Early stopping state.
    double best = std::numeric_limits<double>::infinity();
    int since_best = 0;
    std::vector<Matrix<T>> best_weights;

    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
      if (options.shuffle && batches > 1) rng.shuffle(order.begin(), order.end());
      progress.start_epoch();
      double epoch_sum = 0.0;
      for (Index b = 0; b < batches; ++b) {
        const Index start = b * B;
        const Index n = std::min(B, N - start);
        Matrix<T>& xb = n == B ? Xb : Xt;
        TargetBuffer<Target>& tb = n == B ? yb : yt;
        if (batches > 1) {
          gather_rows(X, order.data() + start, n, xb);
          gather_rows(y, order.data() + start, n, tb);
        }
        const Matrix<T>& P = forward(xb);
        // Divergence is caught here, before the loss rejects non-finite predictions as bad input.
        if (!detail::all_finite(P)) diverged(epoch, b + 1, batches, "the network output contains NaN or Inf");
        const T l = loss.forward(P, tb);
        if (!std::isfinite(static_cast<double>(l)))
          diverged(epoch, b + 1, batches,
                   std::string("the loss became ") + (std::isnan(static_cast<double>(l)) ? "NaN" : "infinite"));
        backward(loss.backward());
        optimizer.step(params);
        epoch_sum += static_cast<double>(l) * static_cast<double>(n);
        progress.update(epoch, b + 1, start + n, epoch_sum / static_cast<double>(start + n));
      }
      history.loss.push_back(epoch_sum / static_cast<double>(N));

      double monitored = history.loss.back();
      if (X_val) {
        double acc = 0.0;
        monitored = evaluate_impl(*X_val, *y_val, loss, std::max<Index>(B, 256), is_labels_v<Target> ? &acc : nullptr);
        history.val_loss.push_back(monitored);
        if constexpr (is_labels_v<Target>) history.val_accuracy.push_back(acc);
      }

      bool stop = false;
      if (callbacks.early_stopping) {
        const EarlyStopping& es = *callbacks.early_stopping;
        if (monitored < best - es.min_delta) {
          best = monitored;
          since_best = 0;
          if (es.restore_best_weights) {
            best_weights.resize(params.size());
            for (std::size_t k = 0; k < params.size(); ++k) best_weights[k] = params[k]->value;
          }
        } else if (++since_best >= es.patience) {
          stop = true;
        }
      }
      if (callbacks.lr_scheduler) callbacks.lr_scheduler->step(monitored);
      if (callbacks.on_epoch_end && !callbacks.on_epoch_end(epoch, history, monitored)) stop = true;
      if (stop) break;
    }
    if (callbacks.early_stopping && callbacks.early_stopping->restore_best_weights && !best_weights.empty())
      for (std::size_t k = 0; k < params.size(); ++k) params[k]->value = best_weights[k];
    return history;
  }

  std::vector<std::unique_ptr<Layer<T>>> layers_;
  Index in_ = -1;     // input width fixed by the first sized layer, -1 while unknown
  Index width_ = -1;  // output width of the layers so far, -1 while unknown
  Matrix<T> eval_X_;  // batch buffer of predict / evaluate
  Matrix<T> eval_P_;  // evaluate's outputs for the rows of a padded last pass
  std::size_t first_backward_ = 0;  // backward runs layers first_backward_ .. end (see update_input_grad)
  Matrix<T> no_grad_;               // the empty dL/dX returned without needs_input_grad
};

}  // namespace eigenml::nn
