#pragma once
/// \file preprocessing.hpp
/// Umbrella header of eigenml's `preprocessing` module (`namespace eigenml::preprocessing`).
/// - split.hpp: train_test_split (seeded, optionally stratified), take_rows
/// - scalers.hpp: StandardScaler, MinMaxScaler
/// - one_hot.hpp: one_hot

#include "eigenml/core.hpp"
#include "eigenml/preprocessing/one_hot.hpp"
#include "eigenml/preprocessing/scalers.hpp"
#include "eigenml/preprocessing/split.hpp"
