#pragma once
// Placeholder: filled in by the issue that builds linear_model/logistic_regression.
