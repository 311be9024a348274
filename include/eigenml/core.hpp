#pragma once
/// \file core.hpp
/// The data types every part of eigenml shares: matrices (one sample per row), label vectors,
/// trainable parameters, training options and the per-epoch history.

#include <Eigen/Core>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace eigenml {

using Index = Eigen::Index;

/// A batch: one sample per row. Row-major, so one sample's values are contiguous in memory
/// (an image row is its C x H x W values in C order, a sequence row its time steps in order).
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A column of values (targets of a regression, coefficients, biases).
template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Class indices 0..K-1, one per row of a batch.
using Labels = Eigen::VectorXi;

/// A trainable tensor and the gradient of the loss with respect to it (same shape).
/// Layers overwrite `grad` in `backward`; optimizers read it in `step`.
template <class T>
struct Parameter {
  Matrix<T> value;
  Matrix<T> grad;

  Parameter() = default;
  Parameter(Index rows, Index cols) : value(Matrix<T>::Zero(rows, cols)), grad(Matrix<T>::Zero(rows, cols)) {}
};

/// How an iterative fit walks through the data.
struct TrainOptions {
  int epochs = 1;            ///< passes over the data
  int batch_size = 32;       ///< samples per step; 0 = the whole data set in one batch
  bool shuffle = true;       ///< reshuffle the rows before every epoch (seeded)
  std::uint64_t seed = 0;    ///< seed of the shuffle (and of anything else random in the fit)
  bool progress = true;      ///< draw a progress bar, but only when stderr is a terminal

  /// Throws std::invalid_argument naming the bad field.
  void validate() const {
    if (epochs < 1) throw std::invalid_argument("TrainOptions.epochs must be >= 1, got " + std::to_string(epochs));
    if (batch_size < 0)
      throw std::invalid_argument("TrainOptions.batch_size must be >= 0 (0 = full batch), got " +
                                  std::to_string(batch_size));
  }
};

/// What a fit reports, one entry per epoch. Validation entries are filled only when the fit was
/// given validation data.
struct History {
  std::vector<double> loss;          ///< mean training loss over the epoch's batches
  std::vector<double> val_loss;      ///< loss on the validation data after the epoch
  std::vector<double> val_accuracy;  ///< accuracy on the validation data (classifiers only)
  int epochs_run() const { return static_cast<int>(loss.size()); }
};

}  // namespace eigenml
