#pragma once
/// \file optim.hpp
/// Umbrella header of eigenml's `optim` module.

#include "eigenml/core.hpp"
#include "eigenml/optim/optimizer.hpp"
#include "eigenml/optim/sgd.hpp"
#include "eigenml/optim/adam.hpp"
#include "eigenml/optim/rmsprop.hpp"
#include "eigenml/optim/adagrad.hpp"
#include "eigenml/optim/lr_scheduler.hpp"
#include "eigenml/optim/clip_grad.hpp"
