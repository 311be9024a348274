#pragma once
/// \file io/model_io.hpp
/// Saving and loading whole models as safetensors files.
///
///     eigenml::io::save(net, "m.safetensors");
///     auto net2 = eigenml::io::load<eigenml::nn::Sequential<float>>("m.safetensors");
///     eigenml::io::load_weights(net3, "from_pytorch.safetensors");   // tensors only
///
/// File layout (format_version "1"):
///  - Tensors are named as PyTorch's `state_dict` names them, so a file moves between eigenml and
///    PyTorch: for a `Sequential`, `<i>.<param>` with `i` the layer's index (nested Sequentials
///    add one index per level, `<i>.<j>.<param>`):
///      Dense            `weight` [out, in], `bias` [out]
///      Conv2D           `weight` [out_channels, in_channels, k, k], `bias` [out_channels]
///      RNN / LSTM / GRU `weight_ih_l0` [G*H, F], `weight_hh_l0` [G*H, H], `bias_ih_l0` [G*H],
///                       `bias_hh_l0` [G*H], G = 1 / 4 (gates i, f, g, o) / 3 (gates r, z, n)
///    `LinearRegression`: `coef` [d] and `intercept` [] (a 0-d tensor), as scikit-learn's `coef_`
///    and `intercept_`. `LogisticRegression`: `coef` [1, d] (binary) or [K, d], `intercept` [1]
///    or [K].
///  - `__metadata__` (all strings): `format_version` ("1"), `model` ("Sequential",
///    "LinearRegression" or "LogisticRegression"), `dtype` ("F32"/"F64", the precision it was
///    saved from) and `architecture`, a JSON document that rebuilds the model:
///      Sequential: {"layers": [{"type": "Dense", "in_features": 4, "out_features": 3},
///                              {"type": "ReLU"}, {"type": "Conv2D", "in_channels": .., "height": ..,
///                              "width": .., "out_channels": .., "kernel": .., "stride": ..,
///                              "padding": ..}, {"type": "MaxPool2D"/"AvgPool2D", "channels": ..,
///                              "height": .., "width": .., "kernel": .., "stride": .., "padding": ..},
///                              {"type": "RNN"/"LSTM"/"GRU", "input_size": .., "hidden_size": ..,
///                              "seq_len": .., "return_sequences": false}, {"type": "Dropout",
///                              "p": 0.5}, {"type": "LeakyReLU", "slope": 0.01},
///                              {"type": "Sequential", "layers": [...]}, ...]}
///      LinearRegression: {"fit_intercept": true, "alpha": 0.0}
///      LogisticRegression: {"fit_intercept": true, "C": 1.0 (or "inf"), "tol": .., "max_iter": ..,
///                           "n_classes": K}
///
/// Loading trusts nothing: the architecture is checked field by field, every tensor it implies
/// must be in the file with exactly the implied shape (and nothing else may be), sizes are bounded
/// before any layer is built (so no allocation is larger than the file), and weights must be
/// finite. Every problem throws `FormatError` naming it. F32 and F64 tensors load into either
/// precision. `from_bytes` / `load_weights_from_bytes` do the same from a buffer in memory.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "eigenml/core.hpp"
#include "eigenml/detail/json.hpp"
#include "eigenml/io/format_error.hpp"
#include "eigenml/io/safetensors.hpp"
#include "eigenml/linear_model/linear_regression.hpp"
#include "eigenml/linear_model/logistic_regression.hpp"
#include "eigenml/nn/activations.hpp"
#include "eigenml/nn/conv2d.hpp"
#include "eigenml/nn/dense.hpp"
#include "eigenml/nn/dropout.hpp"
#include "eigenml/nn/flatten.hpp"
#include "eigenml/nn/gru.hpp"
#include "eigenml/nn/layer.hpp"
#include "eigenml/nn/lstm.hpp"
#include "eigenml/nn/pooling.hpp"
#include "eigenml/nn/rnn.hpp"
#include "eigenml/nn/sequential.hpp"

namespace eigenml::io {

/// The version written to `__metadata__["format_version"]`; files with another version are rejected.
inline constexpr const char* format_version = "1";

}  // namespace eigenml::io

// The machinery, in its own namespace so its short names cannot collide with other helpers.
namespace eigenml::detail::model_io {

using io::dtype_name;
using io::FormatError;
using io::format_version;
using io::Safetensors;
using io::SafetensorsWriter;
using io::shape_string;

/// The largest size field (a dimension, a channel count, ...) accepted from a file.
inline constexpr std::uint64_t max_dim = std::uint64_t{1} << 24;
/// The largest width (values per sample, i.e. a product of fields) accepted from a file. With
/// both bounds checked before any layer is built, no layer's size arithmetic can overflow, even
/// in `int`, and no layer can ask for more memory than the file's own tensors hold.
inline constexpr std::uint64_t max_width = (std::uint64_t{1} << 31) - 1;
/// The most layers a file may describe.
inline constexpr std::size_t max_layers = 100000;

/// A tensor the model needs: its name and PyTorch shape.
struct ParamSpec {
  std::string name;
  std::vector<std::uint64_t> shape;
};

/// `a * b`, or FormatError if it exceeds max_width (both arguments are <= max_width, so the
/// product fits in 64 bits).
inline std::uint64_t bounded_mul(std::uint64_t a, std::uint64_t b, const std::string& what) {
  const std::uint64_t p = a * b;
  if (p > max_width) throw FormatError(what + " is " + std::to_string(p) + ", more than the limit " + std::to_string(max_width));
  return p;
}

/// Field `key` of a layer description: an integer in [lo, max_dim].
inline std::uint64_t get_size(const Json& d, const char* key, const std::string& where, std::uint64_t lo = 1,
                              std::uint64_t hi = max_dim) {
  const Json* v = d.find(key);
  if (!v) throw FormatError(where + ": missing field '" + key + "'");
  if (!v->is_unsigned())
    throw FormatError(where + ": field '" + key + "' must be a non-negative integer, got " + v->dump());
  const std::uint64_t x = v->as_uint64();
  if (x < lo || x > hi)
    throw FormatError(where + ": field '" + key + "' = " + std::to_string(x) + " is out of range [" + std::to_string(lo) +
                      ", " + std::to_string(hi) + "]");
  return x;
}

inline double get_number(const Json& d, const char* key, const std::string& where) {
  const Json* v = d.find(key);
  if (!v) throw FormatError(where + ": missing field '" + key + "'");
  if (!v->is_number()) throw FormatError(where + ": field '" + key + "' must be a number, got " + v->dump());
  return v->as_double();
}

inline bool get_bool(const Json& d, const char* key, const std::string& where) {
  const Json* v = d.find(key);
  if (!v) throw FormatError(where + ": missing field '" + key + "'");
  if (!v->is_bool()) throw FormatError(where + ": field '" + key + "' must be true or false, got " + v->dump());
  return v->as_bool();
}

/// The description must have exactly the fields `allowed` (plus "type").
inline void check_fields(const Json& d, std::initializer_list<const char*> allowed, const std::string& where) {
  for (const auto& [key, value] : d.members()) {
    if (key == "type") continue;
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) throw FormatError(where + ": unexpected field '" + key + "'");
  }
}

inline int recurrent_gates(const std::string& type) { return type == "LSTM" ? 4 : type == "GRU" ? 3 : 1; }

inline bool is_activation(const std::string& type) {
  return type == "ReLU" || type == "Sigmoid" || type == "Tanh" || type == "Softmax" || type == "GELU" ||
         type == "Flatten";
}

/// Validates one layer description (recursively for a nested Sequential) and appends the
/// tensors it needs, named `prefix + <param>`, to `out`. Builds nothing.
inline void layer_param_specs(const Json& d, const std::string& prefix, const std::string& where,
                              std::vector<ParamSpec>& out);

/// Validates a list of layer descriptions; layer i's tensors are named `prefix + i + "." + param`.
inline void layers_param_specs(const Json& layers, const std::string& prefix, const std::string& where,
                               std::vector<ParamSpec>& out) {
  if (!layers.is_array()) throw FormatError(where + ": 'layers' must be an array");
  if (layers.empty()) throw FormatError(where + ": 'layers' is empty (a network needs at least one layer)");
  if (layers.size() > max_layers)
    throw FormatError(where + ": " + std::to_string(layers.size()) + " layers, more than the limit " +
                      std::to_string(max_layers));
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string idx = prefix + std::to_string(i);
    layer_param_specs(layers.at(i), idx + ".", where + ": layer " + idx, out);
  }
}

inline void layer_param_specs(const Json& d, const std::string& prefix, const std::string& where_in,
                              std::vector<ParamSpec>& out) {
  if (!d.is_object()) throw FormatError(where_in + ": layer description is not a JSON object");
  const Json* type_field = d.find("type");
  if (!type_field || !type_field->is_string()) throw FormatError(where_in + ": missing string field 'type'");
  const std::string& type = type_field->as_string();
  const std::string where = where_in + " (" + type + ")";
  if (type == "Dense") {
    check_fields(d, {"in_features", "out_features"}, where);
    const auto in = get_size(d, "in_features", where), o = get_size(d, "out_features", where);
    out.push_back({prefix + "weight", {o, in}});
    out.push_back({prefix + "bias", {o}});
  } else if (type == "Conv2D") {
    check_fields(d, {"in_channels", "height", "width", "out_channels", "kernel", "stride", "padding"}, where);
    const auto c = get_size(d, "in_channels", where), h = get_size(d, "height", where),
               w = get_size(d, "width", where), oc = get_size(d, "out_channels", where),
               k = get_size(d, "kernel", where);
    const auto s = get_size(d, "stride", where), p = get_size(d, "padding", where, 0);
    bounded_mul(bounded_mul(c, h, where + ": input width"), w, where + ": input width");
    bounded_mul(bounded_mul(c, k, where + ": filter size"), k, where + ": filter size");
    // Output positions per axis, (n + 2p - k)/s + 1 (the layer itself rejects k > n + 2p).
    const auto positions = [&](std::uint64_t n) { return n + 2 * p >= k ? (n + 2 * p - k) / s + 1 : 0; };
    bounded_mul(bounded_mul(oc, positions(h), where + ": output width"), positions(w), where + ": output width");
    out.push_back({prefix + "weight", {oc, c, k, k}});
    out.push_back({prefix + "bias", {oc}});
  } else if (type == "MaxPool2D" || type == "AvgPool2D") {
    check_fields(d, {"channels", "height", "width", "kernel", "stride", "padding"}, where);
    const auto c = get_size(d, "channels", where), h = get_size(d, "height", where), w = get_size(d, "width", where);
    get_size(d, "kernel", where);
    get_size(d, "stride", where);
    get_size(d, "padding", where, 0);
    bounded_mul(bounded_mul(c, h, where + ": input width"), w, where + ": input width");
  } else if (type == "RNN" || type == "LSTM" || type == "GRU") {
    check_fields(d, {"input_size", "hidden_size", "seq_len", "return_sequences"}, where);
    const auto f = get_size(d, "input_size", where), h = get_size(d, "hidden_size", where),
               t = get_size(d, "seq_len", where);
    get_bool(d, "return_sequences", where);
    bounded_mul(t, f, where + ": input width");
    bounded_mul(t, h, where + ": output width");
    const std::uint64_t g = bounded_mul(static_cast<std::uint64_t>(recurrent_gates(type)), h, where + ": gate rows");
    out.push_back({prefix + "weight_ih_l0", {g, f}});
    out.push_back({prefix + "weight_hh_l0", {g, h}});
    out.push_back({prefix + "bias_ih_l0", {g}});
    out.push_back({prefix + "bias_hh_l0", {g}});
  } else if (type == "Dropout") {
    check_fields(d, {"p"}, where);
    get_number(d, "p", where);
  } else if (type == "LeakyReLU") {
    check_fields(d, {"slope"}, where);
    get_number(d, "slope", where);
  } else if (is_activation(type)) {
    check_fields(d, {}, where);
  } else if (type == "Sequential") {
    check_fields(d, {"layers"}, where);
    if (!d.contains("layers")) throw FormatError(where + ": missing field 'layers'");
    layers_param_specs(d.at("layers"), prefix, where, out);
  } else {
    throw FormatError(where_in + ": unknown layer type '" + type + "'");
  }
}

template <class T>
nn::Sequential<T> build_sequential(const Json& layers, const std::string& prefix, const std::string& where);

/// Builds one layer from a description already checked by layer_param_specs. A constructor
/// rejecting the options (std::invalid_argument) becomes a FormatError naming the layer.
template <class T>
std::unique_ptr<nn::Layer<T>> build_layer(const Json& d, const std::string& prefix, const std::string& where_in) {
  const std::string& type = d.at("type").as_string();
  const std::string where = where_in + " (" + type + ")";
  const auto i = [&](const char* key) { return static_cast<int>(d.at(key).as_uint64()); };
  try {
    if (type == "Dense")
      return std::make_unique<nn::Dense<T>>(static_cast<Index>(i("in_features")), static_cast<Index>(i("out_features")));
    if (type == "Conv2D") {
      nn::Conv2DOptions o{};
      o.in_channels = i("in_channels");
      o.height = i("height");
      o.width = i("width");
      o.out_channels = i("out_channels");
      o.kernel = i("kernel");
      o.stride = i("stride");
      o.padding = i("padding");
      return std::make_unique<nn::Conv2D<T>>(o);
    }
    if (type == "MaxPool2D" || type == "AvgPool2D") {
      nn::Pool2DOptions o{};
      o.channels = i("channels");
      o.height = i("height");
      o.width = i("width");
      o.kernel = i("kernel");
      o.stride = i("stride");
      o.padding = i("padding");
      if (type == "MaxPool2D") return std::make_unique<nn::MaxPool2D<T>>(o);
      return std::make_unique<nn::AvgPool2D<T>>(o);
    }
    if (type == "RNN" || type == "LSTM" || type == "GRU") {
      nn::RecurrentOptions o{};
      o.input_size = i("input_size");
      o.hidden_size = i("hidden_size");
      o.seq_len = i("seq_len");
      o.return_sequences = d.at("return_sequences").as_bool();
      if (type == "RNN") return std::make_unique<nn::RNN<T>>(o);
      if (type == "LSTM") return std::make_unique<nn::LSTM<T>>(o);
      return std::make_unique<nn::GRU<T>>(o);
    }
    if (type == "Dropout") return std::make_unique<nn::Dropout<T>>(d.at("p").as_double());
    if (type == "LeakyReLU") {
      const double slope = d.at("slope").as_double();
      if (!std::isfinite(static_cast<double>(static_cast<T>(slope))))
        throw FormatError(where + ": field 'slope' is not finite in this precision");
      return std::make_unique<nn::LeakyReLU<T>>(static_cast<T>(slope));
    }
    if (type == "ReLU") return std::make_unique<nn::ReLU<T>>();
    if (type == "Sigmoid") return std::make_unique<nn::Sigmoid<T>>();
    if (type == "Tanh") return std::make_unique<nn::Tanh<T>>();
    if (type == "Softmax") return std::make_unique<nn::Softmax<T>>();
    if (type == "GELU") return std::make_unique<nn::GELU<T>>();
    if (type == "Flatten") return std::make_unique<nn::Flatten<T>>();
    if (type == "Sequential")
      return std::make_unique<nn::Sequential<T>>(build_sequential<T>(d.at("layers"), prefix, where));
  } catch (const std::invalid_argument& e) {
    throw FormatError(where + ": " + e.what());
  }
  throw FormatError(where + ": unknown layer type '" + type + "'");  // unreachable after layer_param_specs
}

template <class T>
nn::Sequential<T> build_sequential(const Json& layers, const std::string& prefix, const std::string& where) {
  nn::Sequential<T> net;
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const std::string idx = prefix + std::to_string(k);
    auto layer = build_layer<T>(layers.at(k), idx + ".", where + ": layer " + idx);
    try {
      net.add(std::move(layer));
    } catch (const std::invalid_argument& e) {
      throw FormatError(where + ": layers do not fit together: " + e.what());
    }
  }
  return net;
}

/// The description of an existing layer (what `save` writes), "type" first. Throws
/// std::invalid_argument for a layer type eigenml cannot save.
template <class T>
Json describe_layer(const nn::Layer<T>& layer) {
  const std::string type = layer.name();
  Json d = Json::object({{"type", type}});
  if (const auto* l = dynamic_cast<const nn::Dense<T>*>(&layer)) {
    d.set("in_features", l->in_features()).set("out_features", l->out_features());
  } else if (const auto* l = dynamic_cast<const nn::Conv2D<T>*>(&layer)) {
    const auto& o = l->options();
    d.set("in_channels", o.in_channels).set("height", o.height).set("width", o.width);
    d.set("out_channels", o.out_channels).set("kernel", o.kernel).set("stride", o.stride).set("padding", o.padding);
  } else if (type == "MaxPool2D" || type == "AvgPool2D") {
    const auto* mp = dynamic_cast<const nn::MaxPool2D<T>*>(&layer);
    const auto* ap = dynamic_cast<const nn::AvgPool2D<T>*>(&layer);
    if (!mp && !ap) throw std::invalid_argument("io::save: layer named " + type + " is not eigenml's " + type);
    const auto& o = mp ? mp->options() : ap->options();
    d.set("channels", o.channels).set("height", o.height).set("width", o.width);
    d.set("kernel", o.kernel).set("stride", o.stride).set("padding", o.padding);
  } else if (type == "RNN" || type == "LSTM" || type == "GRU") {
    const nn::RecurrentOptions* o = nullptr;
    if (const auto* l = dynamic_cast<const nn::RNN<T>*>(&layer)) o = &l->options();
    if (const auto* l = dynamic_cast<const nn::LSTM<T>*>(&layer)) o = &l->options();
    if (const auto* l = dynamic_cast<const nn::GRU<T>*>(&layer)) o = &l->options();
    if (!o) throw std::invalid_argument("io::save: layer named " + type + " is not eigenml's " + type);
    d.set("input_size", o->input_size).set("hidden_size", o->hidden_size).set("seq_len", o->seq_len);
    d.set("return_sequences", o->return_sequences);
  } else if (const auto* l = dynamic_cast<const nn::Dropout<T>*>(&layer)) {
    d.set("p", l->p());
  } else if (const auto* l = dynamic_cast<const nn::LeakyReLU<T>*>(&layer)) {
    d.set("slope", static_cast<double>(l->slope()));
  } else if (const auto* l = dynamic_cast<const nn::Sequential<T>*>(&layer)) {
    Json layers = Json::array();
    for (std::size_t k = 0; k < l->size(); ++k) layers.push_back(describe_layer<T>(l->layer(k)));
    d.set("layers", std::move(layers));
  } else if (!is_activation(type)) {
    throw std::invalid_argument("io::save: cannot save a layer of type '" + type + "'");
  }
  return d;
}

/// The architecture document of a network: {"layers": [...]}.
template <class T>
Json describe_sequential(const nn::Sequential<T>& net) {
  Json layers = Json::array();
  for (std::size_t k = 0; k < net.size(); ++k) layers.push_back(describe_layer<T>(net.layer(k)));
  return Json::object({{"layers", std::move(layers)}});
}

/// Every tensor in `expected` must be in `st` with exactly that shape, and `st` must hold nothing
/// else; the message lists every missing and unexpected name.
inline void match_tensors(const Safetensors& st, const std::vector<ParamSpec>& expected, const std::string& where) {
  std::set<std::string> names;
  std::string missing, wrong_shape;
  for (const auto& p : expected) {
    names.insert(p.name);
    if (!st.contains(p.name)) {
      missing += (missing.empty() ? "'" : ", '") + p.name + "' " + shape_string(p.shape);
    } else if (st.info(p.name).shape != p.shape) {
      wrong_shape += (wrong_shape.empty() ? "" : "; ") + std::string("tensor '") + p.name + "' has shape " +
                     shape_string(st.info(p.name).shape) + " but the model expects " + shape_string(p.shape);
    }
  }
  std::string extra;
  for (const auto& [name, info] : st.tensors())
    if (!names.count(name)) extra += (extra.empty() ? "'" : ", '") + name + "'";
  if (!missing.empty()) throw FormatError(where + ": missing tensors " + missing);
  if (!extra.empty()) throw FormatError(where + ": unexpected tensors " + extra + " (not part of the model)");
  if (!wrong_shape.empty()) throw FormatError(where + ": shape mismatch: " + wrong_shape);
}

/// Copies tensor `name` into `p` (the shapes were matched already) and checks it is finite.
template <class T>
void fill(Matrix<T>& p, const Safetensors& st, const std::string& name, const std::string& where) {
  st.copy_to<T>(name, std::span<T>(p.data(), static_cast<std::size_t>(p.size())));
  if (!p.allFinite()) throw FormatError(where + ": tensor '" + name + "' contains NaN or Inf (in this precision)");
}

/// Fills `params` (a model's parameters in order) from the tensors `specs` (same order).
template <class T>
void fill_params(const std::vector<Parameter<T>*>& params, const std::vector<ParamSpec>& specs, const Safetensors& st,
                 const std::string& where) {
  if (params.size() != specs.size())
    throw std::logic_error("eigenml::io: the model has " + std::to_string(params.size()) + " parameters, its layers imply " +
                           std::to_string(specs.size()));
  for (std::size_t k = 0; k < params.size(); ++k) {
    std::uint64_t numel = 1;
    for (auto s : specs[k].shape) numel *= s;
    if (specs[k].shape.empty() || static_cast<std::uint64_t>(params[k]->value.size()) != numel ||
        static_cast<std::uint64_t>(params[k]->value.rows()) != specs[k].shape[0])
      throw std::logic_error("eigenml::io: parameter " + specs[k].name + " is " + detail::shape_of(params[k]->value) +
                             ", the file layout implies " + shape_string(specs[k].shape));
    fill(params[k]->value, st, specs[k].name, where);
  }
}

/// Metadata entry `key`, or FormatError.
inline const std::string& metadata_entry(const Safetensors& st, const std::string& key, const std::string& where) {
  auto it = st.metadata().find(key);
  if (it == st.metadata().end())
    throw FormatError(where + ": no '" + key +
                      "' in __metadata__ (not an eigenml model file; a file with tensors only loads with load_weights)");
  return it->second;
}

/// Checks format_version and model kind; returns the parsed architecture document.
inline Json read_architecture(const Safetensors& st, const std::string& kind, const std::string& where) {
  const std::string& version = metadata_entry(st, "format_version", where);
  if (version != format_version)
    throw FormatError(where + ": unsupported format_version \"" + version + "\" (this eigenml reads \"" +
                      format_version + "\")");
  const std::string& model = metadata_entry(st, "model", where);
  if (model != kind) throw FormatError(where + ": the file holds a " + model + ", not a " + kind);
  Json arch = parse_json_strict(metadata_entry(st, "architecture", where), where + ": architecture");
  if (!arch.is_object()) throw FormatError(where + ": architecture is not a JSON object");
  return arch;
}

template <class T>
SafetensorsWriter writer_for(const std::string& kind, const Json& arch) {
  SafetensorsWriter w;
  w.add_metadata("format_version", format_version);
  w.add_metadata("model", kind);
  w.add_metadata("dtype", dtype_name<T>());
  w.add_metadata("architecture", arch.dump());
  return w;
}

/// Writes `p` as tensor `spec`: the parameter's row-major values are the tensor in C order.
template <class T>
void add_param(SafetensorsWriter& w, const ParamSpec& spec, const Matrix<T>& value) {
  w.add(spec.name, value, spec.shape);
}

template <class Model>
struct ModelCodec;  // specialised below for every model eigenml saves

template <class T>
struct ModelCodec<nn::Sequential<T>> {
  static constexpr const char* kind = "Sequential";

  static SafetensorsWriter write(const nn::Sequential<T>& net) {
    if (net.empty()) throw std::invalid_argument("io::save: the network has no layers");
    const Json arch = describe_sequential(net);
    std::vector<ParamSpec> specs;
    layers_param_specs(arch.at("layers"), "", "io::save", specs);
    // parameters() is non-const only because it hands out mutable pointers; nothing is modified.
    const auto params = const_cast<nn::Sequential<T>&>(net).parameters();
    if (params.size() != specs.size()) throw std::logic_error("io::save: parameter count does not match the layers");
    SafetensorsWriter w = writer_for<T>(kind, arch);
    for (std::size_t k = 0; k < specs.size(); ++k) add_param<T>(w, specs[k], params[k]->value);
    return w;
  }

  static nn::Sequential<T> read(const Safetensors& st) {
    const std::string where = "Sequential";
    const Json arch = read_architecture(st, kind, where);
    check_fields(arch, {"layers"}, where + ": architecture");
    if (!arch.contains("layers")) throw FormatError(where + ": architecture has no 'layers'");
    std::vector<ParamSpec> specs;
    layers_param_specs(arch.at("layers"), "", where + ": architecture", specs);
    match_tensors(st, specs, where);  // before building: sizes are now bounded by the file
    nn::Sequential<T> net = build_sequential<T>(arch.at("layers"), "", where + ": architecture");
    fill_params<T>(net.parameters(), specs, st, where);
    return net;
  }

  static void read_weights(nn::Sequential<T>& net, const Safetensors& st) {
    const std::string where = "load_weights(Sequential)";
    std::vector<ParamSpec> specs;
    layers_param_specs(describe_sequential(net).at("layers"), "", where, specs);
    match_tensors(st, specs, where);
    fill_params<T>(net.parameters(), specs, st, where);
  }
};

template <class T>
struct ModelCodec<LinearRegression<T>> {
  static constexpr const char* kind = "LinearRegression";

  static SafetensorsWriter write(const LinearRegression<T>& m) {
    if (!m.is_fitted()) throw std::invalid_argument("io::save: the LinearRegression is not fitted");
    const Json arch = Json::object({{"fit_intercept", m.options().fit_intercept}, {"alpha", m.options().alpha}});
    SafetensorsWriter w = writer_for<T>(kind, arch);
    const Vector<T> coef = m.coef();
    w.add("coef", coef, {static_cast<std::uint64_t>(coef.size())});
    w.add("intercept", Matrix<T>::Constant(1, 1, m.intercept()), {});
    return w;
  }

  static void fill_model(LinearRegression<T>& m, const Safetensors& st, const std::string& where) {
    if (!st.contains("coef")) throw FormatError(where + ": missing tensors 'coef'");
    const auto& shape = st.info("coef").shape;
    if (shape.size() != 1 || shape[0] == 0)
      throw FormatError(where + ": tensor 'coef' has shape " + shape_string(shape) + ", expected [d] with d >= 1");
    if (m.is_fitted() && shape[0] != static_cast<std::uint64_t>(m.n_features()))
      throw FormatError(where + ": tensor 'coef' has shape " + shape_string(shape) + " but the model has " +
                        std::to_string(m.n_features()) + " features");
    match_tensors(st, {{"coef", shape}, {"intercept", {}}}, where);
    Matrix<T> coef(static_cast<Index>(shape[0]), 1), b(1, 1);
    fill(coef, st, "coef", where);
    fill(b, st, "intercept", where);
    m.set_params(coef.col(0), b(0, 0));
  }

  static LinearRegression<T> read(const Safetensors& st) {
    const std::string where = kind;
    const Json arch = read_architecture(st, kind, where);
    check_fields(arch, {"fit_intercept", "alpha"}, where + ": architecture");
    LinearRegressionOptions o{};
    o.fit_intercept = get_bool(arch, "fit_intercept", where + ": architecture");
    o.alpha = get_number(arch, "alpha", where + ": architecture");
    try {
      LinearRegression<T> m(o);
      fill_model(m, st, where);
      return m;
    } catch (const std::invalid_argument& e) {
      throw FormatError(where + ": " + e.what());
    }
  }

  static void read_weights(LinearRegression<T>& m, const Safetensors& st) {
    try {
      fill_model(m, st, "load_weights(LinearRegression)");
    } catch (const std::invalid_argument& e) {
      throw FormatError(std::string("load_weights(LinearRegression): ") + e.what());
    }
  }
};

template <class T>
struct ModelCodec<LogisticRegression<T>> {
  static constexpr const char* kind = "LogisticRegression";

  static SafetensorsWriter write(const LogisticRegression<T>& m) {
    if (!m.is_fitted()) throw std::invalid_argument("io::save: the LogisticRegression is not fitted");
    const auto& o = m.options();
    // JSON has no infinity; "no penalty" is written as the string "inf".
    const Json arch = Json::object({{"fit_intercept", o.fit_intercept},
                                    {"C", std::isinf(o.C) ? Json("inf") : Json(o.C)},
                                    {"tol", o.tol},
                                    {"max_iter", o.max_iter},
                                    {"n_classes", m.n_classes()}});
    SafetensorsWriter w = writer_for<T>(kind, arch);
    const Matrix<T> coef = m.coef();
    const Vector<T> b = m.intercept();
    w.add("coef", coef, {static_cast<std::uint64_t>(coef.rows()), static_cast<std::uint64_t>(coef.cols())});
    w.add("intercept", b, {static_cast<std::uint64_t>(b.size())});
    return w;
  }

  static void fill_model(LogisticRegression<T>& m, const Safetensors& st, const std::string& where) {
    if (!st.contains("coef")) throw FormatError(where + ": missing tensors 'coef'");
    const auto& shape = st.info("coef").shape;
    if (shape.size() != 2 || shape[0] == 0 || shape[1] == 0 || shape[0] == 2 || shape[0] > max_width ||
        shape[1] > max_width)
      throw FormatError(where + ": tensor 'coef' has shape " + shape_string(shape) +
                        ", expected [1, d] (binary) or [K, d] with K >= 3");
    if (m.is_fitted() && shape[1] != static_cast<std::uint64_t>(m.n_features()))
      throw FormatError(where + ": tensor 'coef' has shape " + shape_string(shape) + " but the model has " +
                        std::to_string(m.n_features()) + " features");
    match_tensors(st, {{"coef", shape}, {"intercept", {shape[0]}}}, where);
    Matrix<T> coef(static_cast<Index>(shape[0]), static_cast<Index>(shape[1])), b(static_cast<Index>(shape[0]), 1);
    fill(coef, st, "coef", where);
    fill(b, st, "intercept", where);
    m.set_params(coef, b.col(0));
  }

  static LogisticRegression<T> read(const Safetensors& st) {
    const std::string where = kind;
    const std::string aw = where + ": architecture";
    const Json arch = read_architecture(st, kind, where);
    check_fields(arch, {"fit_intercept", "C", "tol", "max_iter", "n_classes"}, aw);
    LogisticRegressionOptions o{};
    o.fit_intercept = get_bool(arch, "fit_intercept", aw);
    const Json* c = arch.find("C");
    if (c && c->is_string() && c->as_string() == "inf")
      o.C = std::numeric_limits<double>::infinity();
    else
      o.C = get_number(arch, "C", aw);
    o.tol = get_number(arch, "tol", aw);
    o.max_iter = static_cast<int>(get_size(arch, "max_iter", aw, 0, std::numeric_limits<int>::max()));
    const std::uint64_t k = get_size(arch, "n_classes", aw, 2);
    try {
      LogisticRegression<T> m(o);
      fill_model(m, st, where);
      if (static_cast<std::uint64_t>(m.n_classes()) != k)
        throw FormatError(where + ": architecture says n_classes = " + std::to_string(k) + " but tensor 'coef' has shape " +
                          shape_string(st.info("coef").shape));
      return m;
    } catch (const std::invalid_argument& e) {
      throw FormatError(where + ": " + e.what());
    }
  }

  static void read_weights(LogisticRegression<T>& m, const Safetensors& st) {
    try {
      fill_model(m, st, "load_weights(LogisticRegression)");
    } catch (const std::invalid_argument& e) {
      throw FormatError(std::string("load_weights(LogisticRegression): ") + e.what());
    }
  }
};

/// Runs `f`, prefixing any FormatError's message with the file's path.
template <io::PathLike P, class F>
auto with_path(const P& path, F&& f) {
  try {
    return f();
  } catch (const FormatError& e) {
    const std::string msg = e.what(), name = io::path_text(path);
    if (msg.rfind(name, 0) == 0) throw;  // Safetensors::read already named the file
    throw FormatError(name + ": " + msg);
  }
}

}  // namespace eigenml::detail::model_io

namespace eigenml::io {

/// The model as the bytes of a safetensors file (what `save` writes). Throws
/// std::invalid_argument for an unfitted model or a layer type eigenml cannot save.
template <class Model>
std::vector<std::byte> to_bytes(const Model& model) {
  return detail::model_io::ModelCodec<Model>::write(model).bytes();
}

/// Saves `model` (an `nn::Sequential<T>`, `LinearRegression<T>` or `LogisticRegression<T>`) to
/// `path` as a safetensors file that `load` rebuilds from alone.
template <class Model, PathLike P>
void save(const Model& model, const P& path) {
  detail::model_io::ModelCodec<Model>::write(model).write(path);
}

/// Rebuilds a model from a parsed file. Throws FormatError when the file does not describe a
/// valid `Model`.
template <class Model>
Model load(const Safetensors& file) {
  return detail::model_io::ModelCodec<Model>::read(file);
}

/// Rebuilds a model from the bytes of a file held in memory.
template <class Model>
Model from_bytes(std::span<const std::byte> bytes) {
  return load<Model>(Safetensors::parse(bytes));
}

/// Rebuilds a model saved with `save`, e.g. `io::load<nn::Sequential<float>>("m.safetensors")`.
/// The file may have been saved from either precision.
template <class Model, PathLike P>
Model load(const P& path) {
  return detail::model_io::with_path(path, [&] { return load<Model>(Safetensors::read(path)); });
}

/// Fills the parameters of an already-built `model` from a file's tensors, matched by name
/// (PyTorch `state_dict` names, see above; metadata is ignored). Missing or unexpected tensors
/// and shape mismatches throw FormatError naming them.
template <class Model>
void load_weights(Model& model, const Safetensors& file) {
  detail::model_io::ModelCodec<Model>::read_weights(model, file);
}

template <class Model>
void load_weights_from_bytes(Model& model, std::span<const std::byte> bytes) {
  load_weights(model, Safetensors::parse(bytes));
}

template <class Model, PathLike P>
void load_weights(Model& model, const P& path) {
  detail::model_io::with_path(path, [&] { load_weights(model, Safetensors::read(path)); });
}

/// What a model file holds, read from its metadata without building the model.
struct ModelInfo {
  std::string model;           ///< "Sequential", "LinearRegression" or "LogisticRegression"
  std::string dtype;           ///< precision it was saved from: "F32" or "F64" ("" if not recorded)
  std::string architecture;    ///< the architecture JSON document
};

/// The kind and architecture of a model file (for tools that load any model, e.g. a server).
inline ModelInfo inspect(const Safetensors& file) {
  ModelInfo info;
  const std::string& version = detail::model_io::metadata_entry(file, "format_version", "inspect");
  if (version != format_version)
    throw FormatError("inspect: unsupported format_version \"" + version + "\" (this eigenml reads \"" + format_version +
                      "\")");
  info.model = detail::model_io::metadata_entry(file, "model", "inspect");
  info.architecture = detail::model_io::metadata_entry(file, "architecture", "inspect");
  auto it = file.metadata().find("dtype");
  if (it != file.metadata().end()) info.dtype = it->second;
  return info;
}

template <PathLike P>
ModelInfo inspect(const P& path) {
  return detail::model_io::with_path(path, [&] { return inspect(Safetensors::read(path)); });
}

}  // namespace eigenml::io
