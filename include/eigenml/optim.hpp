#pragma once
/// \file optim.hpp
/// Umbrella header of eigenml's `optim` module.

#include "eigenml/core.hpp"
#include "eigenml/optim/optimizer.hpp"
