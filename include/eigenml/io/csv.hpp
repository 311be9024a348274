#pragma once
// Placeholder: filled in by the issue that builds io/csv.
