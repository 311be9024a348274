#pragma once
/// \file linear_model.hpp
/// Umbrella header of eigenml's `linear_model` module.

#include "eigenml/core.hpp"
#include "eigenml/linear_model/linear_regression.hpp"
#include "eigenml/linear_model/logistic_regression.hpp"
