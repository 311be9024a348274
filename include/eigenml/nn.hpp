#pragma once
/// \file nn.hpp
/// Umbrella header of eigenml's `nn` module.

#include "eigenml/core.hpp"
#include "eigenml/nn/layer.hpp"
