#pragma once
/// \file metrics.hpp
/// Umbrella header of eigenml's `metrics` module.

#include "eigenml/core.hpp"
