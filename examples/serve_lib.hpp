#pragma once
// The request handling of the model server (examples/serve.cpp), free of any HTTP library so it
// can be read and tested on its own: JSON text in, a status code and JSON text out.
//
//   POST /v1/predict  {"inputs": [[x11, x12, ...], [x21, ...], ...]}
//                     -> 200 {"outputs": [[...], ...], "labels": [...]}
//                     "labels" (the predicted class of each row) only for classifiers: a
//                     LogisticRegression, or a Sequential with >= 2 outputs (argmax of the row)
//                     or with one output after a final Sigmoid (output >= 0.5).
//   GET  /v1/model    -> 200 {"kind", "dtype", "input_size", "output_size", "classifier",
//                     "layers": [layer names], "architecture": {...}}
//   GET  /healthz     -> 200 {"status": "ok"}
// Errors carry {"error": "..."}: 400 body is not JSON or not {"inputs": [[...], ...]},
// 422 a row of the wrong length or a value that is not a finite number, 413 body too large
// (enforced by the HTTP layer), 404/405 unknown path or method.
//
// Concurrency: a model keeps per-call buffers (a Sequential's layers hold their activations),
// so one instance must never run two predictions at once. `ModelPool` keeps one deep copy per
// worker thread and lends each request its own.

#include <eigenml/eigenml.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace serve {

using nlohmann::json;

/// A response: HTTP status and JSON body.
struct Reply {
  int status = 200;
  std::string body;
};

inline Reply error_reply(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

/// What a prediction returns, in double whatever the model's precision (a float converts exactly).
struct Prediction {
  eigenml::Matrix<double> outputs;
  std::optional<eigenml::Labels> labels;
};

/// One loaded model of any kind and precision, behind a small interface.
class Model {
 public:
  virtual ~Model() = default;
  /// X: n x input_size(). Not thread-safe (uses the model's own buffers).
  virtual Prediction predict(const eigenml::Matrix<double>& X) = 0;
  virtual std::unique_ptr<Model> clone() const = 0;
  virtual eigenml::Index input_size() const = 0;
  virtual eigenml::Index output_size() const = 0;
  virtual bool classifier() const = 0;
  virtual std::vector<std::string> layer_names() const { return {}; }
};

/// Row-wise argmax: the class of every row.
inline eigenml::Labels argmax_rows(const eigenml::Matrix<double>& m) {
  eigenml::Labels out(m.rows());
  for (eigenml::Index i = 0; i < m.rows(); ++i) {
    eigenml::Index k = 0;
    m.row(i).maxCoeff(&k);
    out(i) = static_cast<int>(k);
  }
  return out;
}

template <class T>
class SequentialModel final : public Model {
 public:
  explicit SequentialModel(eigenml::nn::Sequential<T> net) : net_(std::move(net)) {
    out_ = net_.output_size(net_.input_size());
  }
  Prediction predict(const eigenml::Matrix<double>& X) override {
    Prediction p;
    p.outputs = net_.predict(X.cast<T>()).template cast<double>();
    if (out_ >= 2) p.labels = argmax_rows(p.outputs);
    if (out_ == 1 && sigmoid_output()) p.labels = (p.outputs.col(0).array() >= 0.5).cast<int>();
    return p;
  }
  std::unique_ptr<Model> clone() const override { return std::make_unique<SequentialModel>(*this); }
  eigenml::Index input_size() const override { return net_.input_size(); }
  eigenml::Index output_size() const override { return out_; }
  bool classifier() const override { return out_ >= 2 || (out_ == 1 && sigmoid_output()); }
  std::vector<std::string> layer_names() const override {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < net_.size(); ++i) names.push_back(net_.layer(i).name());
    return names;
  }

 private:
  bool sigmoid_output() const { return net_.size() > 0 && net_.layer(net_.size() - 1).name() == "Sigmoid"; }
  eigenml::nn::Sequential<T> net_;  // copies are deep: each clone has its own layers and buffers
  eigenml::Index out_ = 0;
};

template <class T>
class LinearModel final : public Model {
 public:
  explicit LinearModel(eigenml::LinearRegression<T> m) : m_(std::move(m)) {}
  Prediction predict(const eigenml::Matrix<double>& X) override {
    const eigenml::Matrix<T> Xt = X.cast<T>();
    return {m_.predict(Xt).template cast<double>(), std::nullopt};
  }
  std::unique_ptr<Model> clone() const override { return std::make_unique<LinearModel>(*this); }
  eigenml::Index input_size() const override { return m_.n_features(); }
  eigenml::Index output_size() const override { return 1; }
  bool classifier() const override { return false; }

 private:
  eigenml::LinearRegression<T> m_;
};

template <class T>
class LogisticModel final : public Model {
 public:
  explicit LogisticModel(eigenml::LogisticRegression<T> m) : m_(std::move(m)) {}
  Prediction predict(const eigenml::Matrix<double>& X) override {
    const eigenml::Matrix<T> Xt = X.cast<T>();
    return {m_.predict_proba(Xt).template cast<double>(), m_.predict(Xt)};
  }
  std::unique_ptr<Model> clone() const override { return std::make_unique<LogisticModel>(*this); }
  eigenml::Index input_size() const override { return m_.n_features(); }
  eigenml::Index output_size() const override { return m_.n_classes(); }
  bool classifier() const override { return true; }

 private:
  eigenml::LogisticRegression<T> m_;
};

/// A model file, loaded: the kind is sniffed from the file's metadata, the precision is the one
/// it was saved from. Throws eigenml::io::FormatError for a bad file.
struct LoadedModel {
  std::unique_ptr<Model> model;
  eigenml::io::ModelInfo info;
};

inline LoadedModel load_model(const std::filesystem::path& path) {
  const auto file = eigenml::io::Safetensors::read(path);
  LoadedModel out;
  out.info = eigenml::io::inspect(file);
  const bool f32 = out.info.dtype == "F32";
  const std::string& kind = out.info.model;
  if (kind == "Sequential") {
    if (f32)
      out.model = std::make_unique<SequentialModel<float>>(eigenml::io::load<eigenml::nn::Sequential<float>>(file));
    else
      out.model = std::make_unique<SequentialModel<double>>(eigenml::io::load<eigenml::nn::Sequential<double>>(file));
  } else if (kind == "LinearRegression") {
    if (f32)
      out.model = std::make_unique<LinearModel<float>>(eigenml::io::load<eigenml::LinearRegression<float>>(file));
    else
      out.model = std::make_unique<LinearModel<double>>(eigenml::io::load<eigenml::LinearRegression<double>>(file));
  } else if (kind == "LogisticRegression") {
    if (f32)
      out.model = std::make_unique<LogisticModel<float>>(eigenml::io::load<eigenml::LogisticRegression<float>>(file));
    else
      out.model = std::make_unique<LogisticModel<double>>(eigenml::io::load<eigenml::LogisticRegression<double>>(file));
  } else {
    throw eigenml::io::FormatError(path.string() + ": unknown model kind '" + kind + "'");
  }
  return out;
}

/// `size` deep copies of a model; `Lease` hands one to a request and returns it when it ends.
class ModelPool {
 public:
  ModelPool(const Model& prototype, std::size_t size) {
    for (std::size_t i = 0; i < std::max<std::size_t>(size, 1); ++i) free_.push_back(prototype.clone());
  }

  class Lease {
   public:
    Lease(ModelPool& pool, std::unique_ptr<Model> m) : pool_(pool), m_(std::move(m)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(m_)); }
    Model& operator*() { return *m_; }
    Model* operator->() { return m_.get(); }

   private:
    ModelPool& pool_;
    std::unique_ptr<Model> m_;
  };

  /// Blocks until a copy is free (only when more requests run than there are copies).
  Lease acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !free_.empty(); });
    auto m = std::move(free_.back());
    free_.pop_back();
    return Lease(*this, std::move(m));
  }

 private:
  void give_back(std::unique_ptr<Model> m) {
    {
      std::lock_guard lock(mutex_);
      free_.push_back(std::move(m));
    }
    available_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Model>> free_;
};

/// The endpoints' logic. Thread-safe: the description is immutable, predictions use the pool.
class Service {
 public:
  Service(LoadedModel loaded, std::size_t copies)
      : info_(std::move(loaded.info)),
        input_size_(loaded.model->input_size()),
        output_size_(loaded.model->output_size()),
        classifier_(loaded.model->classifier()),
        layers_(loaded.model->layer_names()),
        pool_(*loaded.model, copies) {}

  Reply health() const { return {200, json{{"status", "ok"}}.dump()}; }

  Reply model_info() const {
    // ordered_json keeps the architecture's keys as the file wrote them ("type" first).
    nlohmann::ordered_json j = {{"kind", info_.model},
              {"dtype", info_.dtype},
              {"input_size", input_size_},
              {"output_size", output_size_},
              {"classifier", classifier_},
              {"layers", layers_}};
    j["architecture"] = nlohmann::ordered_json::parse(info_.architecture, nullptr, /*allow_exceptions=*/false);
    return {200, j.dump()};
  }

  eigenml::Index input_size() const { return input_size_; }

  /// POST /v1/predict.
  Reply predict(std::string_view body) {
    const json req = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (req.is_discarded()) return error_reply(400, "request body is not valid JSON");
    if (!req.is_object() || !req.contains("inputs"))
      return error_reply(400, "expected a JSON object {\"inputs\": [[...], ...]}");
    const json& inputs = req["inputs"];
    if (!inputs.is_array() || inputs.empty())
      return error_reply(400, "\"inputs\" must be a non-empty array of rows (arrays of numbers)");
    const auto n = static_cast<eigenml::Index>(inputs.size());
    // A network that starts with width-agnostic layers takes any width: the first row sets it.
    eigenml::Index d = input_size_;
    if (d < 0) d = inputs[0].is_array() ? static_cast<eigenml::Index>(inputs[0].size()) : 0;
    eigenml::Matrix<double> X(n, d);
    for (eigenml::Index i = 0; i < n; ++i) {
      const json& row = inputs[static_cast<std::size_t>(i)];
      if (!row.is_array()) return error_reply(400, "inputs[" + std::to_string(i) + "] is not an array");
      if (static_cast<eigenml::Index>(row.size()) != d)
        return error_reply(422, "inputs[" + std::to_string(i) + "] has " + std::to_string(row.size()) +
                                    " values, the model expects " + std::to_string(d));
      for (eigenml::Index j = 0; j < d; ++j) {
        const json& v = row[static_cast<std::size_t>(j)];
        if (!v.is_number())
          return error_reply(422, "inputs[" + std::to_string(i) + "][" + std::to_string(j) + "] is not a number: " +
                                      v.dump());
        const double x = v.get<double>();
        if (!std::isfinite(x))
          return error_reply(422, "inputs[" + std::to_string(i) + "][" + std::to_string(j) + "] is not finite");
        X(i, j) = x;
      }
    }
    Prediction p;
    try {
      auto model = pool_.acquire();
      p = model->predict(X);
    } catch (const std::invalid_argument& e) {
      return error_reply(422, e.what());
    }
    json outputs = json::array();
    for (eigenml::Index i = 0; i < p.outputs.rows(); ++i) {
      json row = json::array();
      for (eigenml::Index j = 0; j < p.outputs.cols(); ++j) row.push_back(p.outputs(i, j));
      outputs.push_back(std::move(row));
    }
    json res = {{"outputs", std::move(outputs)}};
    if (p.labels) res["labels"] = std::vector<int>(p.labels->data(), p.labels->data() + p.labels->size());
    return {200, res.dump()};
  }

 private:
  eigenml::io::ModelInfo info_;
  eigenml::Index input_size_;
  eigenml::Index output_size_;
  bool classifier_;
  std::vector<std::string> layers_;
  ModelPool pool_;
};

}  // namespace serve
