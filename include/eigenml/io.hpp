#pragma once
/// \file io.hpp
/// Umbrella header of eigenml's `io` module.

#include "eigenml/core.hpp"
