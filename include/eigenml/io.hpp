#pragma once
/// \file io.hpp
/// Umbrella header of eigenml's `io` module.

#include "eigenml/core.hpp"
#include "eigenml/io/csv.hpp"
#include "eigenml/io/safetensors.hpp"
#include "eigenml/io/model_io.hpp"
