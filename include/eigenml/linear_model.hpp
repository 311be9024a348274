#pragma once
/// \file linear_model.hpp
/// Umbrella header of eigenml's `linear_model` module.

#include "eigenml/core.hpp"
