#pragma once
/// \file eigenml.hpp
/// Everything eigenml offers, in one include.

#include "eigenml/core.hpp"
#include "eigenml/random.hpp"
#include "eigenml/init.hpp"
#include "eigenml/optim.hpp"
#include "eigenml/nn.hpp"
#include "eigenml/linear_model.hpp"
#include "eigenml/preprocessing.hpp"
#include "eigenml/metrics.hpp"
#include "eigenml/io.hpp"
