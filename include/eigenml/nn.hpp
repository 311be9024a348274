#pragma once
/// \file nn.hpp
/// Umbrella header of eigenml's `nn` module.

#include "eigenml/core.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/nn/activations.hpp"
#include "eigenml/nn/losses.hpp"
#include "eigenml/nn/dense.hpp"
#include "eigenml/nn/dropout.hpp"
#include "eigenml/nn/flatten.hpp"
#include "eigenml/nn/conv2d.hpp"
#include "eigenml/nn/pooling.hpp"
#include "eigenml/nn/rnn.hpp"
#include "eigenml/nn/lstm.hpp"
#include "eigenml/nn/gru.hpp"
#include "eigenml/nn/sequential.hpp"
