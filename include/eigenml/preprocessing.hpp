#pragma once
/// \file preprocessing.hpp
/// Umbrella header of eigenml's `preprocessing` module.

#include "eigenml/core.hpp"
