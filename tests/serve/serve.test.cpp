// End-to-end test of the model server (examples/serve.cpp): start the real binary on a free
// loopback port, check every endpoint and error code over HTTP, hit it with a burst of concurrent
// requests whose every answer must equal the library's own prediction bit for bit, then stop it
// with SIGTERM and expect a clean exit.

// eigenml (Eigen) before httplib.h, whose <resolv.h> defines a `_res` macro that breaks Eigen.
#include "eigenml/eigenml.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using eigenml::Matrix;
using nlohmann::json;
namespace nn = eigenml::nn;

namespace {

/// The server binary as a child process; its first stdout line gives the port.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> all{EIGENML_SERVE_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, EIGENML_SERVE_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    REQUIRE(rc == 0);
    out_ = fds[0];
    port_ = read_port();
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  int port() const { return port_; }

  /// SIGTERM, then the exit status (-1 if it did not exit normally within 20 s).
  int stop() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

 private:
  int read_port() {
    std::string line;
    char c = 0;
    while (line.find('\n') == std::string::npos) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 30000) <= 0) break;  // no output within 30 s
      if (read(out_, &c, 1) != 1) break;   // the server exited
      line += c;
    }
    INFO("server said: " << line);
    const auto colon = line.rfind(':');
    REQUIRE(line.rfind("listening on http://127.0.0.1:", 0) == 0);
    return std::stoi(line.substr(colon + 1));
  }

  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

std::filesystem::path temp_file(const std::string& name) { return std::filesystem::temp_directory_path() / name; }

template <class T>
Matrix<T> random_matrix(eigenml::Index rows, eigenml::Index cols, std::uint64_t seed) {
  eigenml::Rng rng(seed);
  Matrix<T> m(rows, cols);
  for (eigenml::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(rng.normal());
  return m;
}

template <class T>
json rows_json(const Matrix<T>& X) {
  json rows = json::array();
  for (eigenml::Index i = 0; i < X.rows(); ++i) {
    json row = json::array();
    for (eigenml::Index j = 0; j < X.cols(); ++j) row.push_back(static_cast<double>(X(i, j)));
    rows.push_back(row);
  }
  return rows;
}

/// The server's outputs must equal `expected` exactly (float predictions are sent as the double
/// of the same value, and JSON numbers round-trip doubles exactly).
template <class T>
bool same_outputs(const json& outputs, const Matrix<T>& expected) {
  if (!outputs.is_array() || static_cast<eigenml::Index>(outputs.size()) != expected.rows()) return false;
  for (eigenml::Index i = 0; i < expected.rows(); ++i) {
    const json& row = outputs[static_cast<std::size_t>(i)];
    if (static_cast<eigenml::Index>(row.size()) != expected.cols()) return false;
    for (eigenml::Index j = 0; j < expected.cols(); ++j)
      if (row[static_cast<std::size_t>(j)].get<double>() != static_cast<double>(expected(i, j))) return false;
  }
  return true;
}

void check_error(const httplib::Result& res, int status, const std::string& fragment) {
  REQUIRE(res);
  CHECK(res->status == status);
  const json body = json::parse(res->body, nullptr, false);
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  CHECK_THAT(body["error"].get<std::string>(), Catch::Matchers::Contains(fragment));
}

}  // namespace

TEST_CASE("the model server serves a Sequential classifier correctly under concurrent load", "[serve]") {
  nn::Sequential<float> net;
  net.add(nn::Dense<float>(4, 16, 1)).add(nn::ReLU<float>()).add(nn::Dense<float>(16, 3, 2)).add(nn::Softmax<float>());
  const auto path = temp_file("eigenml_serve_test_mlp.safetensors");
  eigenml::io::save(net, path);

  ServerProcess server({"--model", path.string(), "--port", "0", "--threads", "4", "--max-body-bytes", "65536"});
  httplib::Client cli("127.0.0.1", server.port());
  cli.set_read_timeout(30, 0);

  auto health = cli.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(json::parse(health->body) == json{{"status", "ok"}});

  auto info = cli.Get("/v1/model");
  REQUIRE(info);
  CHECK(info->status == 200);
  const json model = json::parse(info->body);
  CHECK(model["kind"] == "Sequential");
  CHECK(model["dtype"] == "F32");
  CHECK(model["input_size"] == 4);
  CHECK(model["output_size"] == 3);
  CHECK(model["classifier"] == true);
  CHECK(model["layers"] == json{"Dense", "ReLU", "Dense", "Softmax"});
  CHECK(model["architecture"]["layers"][0]["out_features"] == 16);

  const Matrix<float> X = random_matrix<float>(5, 4, 3);
  const Matrix<float> expected = net.predict(X);
  auto pred = cli.Post("/v1/predict", json{{"inputs", rows_json(X)}}.dump(), "application/json");
  REQUIRE(pred);
  CHECK(pred->status == 200);
  const json answer = json::parse(pred->body);
  CHECK(same_outputs(answer["outputs"], expected));
  for (eigenml::Index i = 0; i < X.rows(); ++i) {
    eigenml::Index k = 0;
    expected.row(i).maxCoeff(&k);
    CHECK(answer["labels"][static_cast<std::size_t>(i)] == k);
  }

  SECTION("errors get a JSON body and the right status, and the server keeps serving") {
    check_error(cli.Post("/v1/predict", "{\"inputs\": [[1, 2", "application/json"), 400, "not valid JSON");
    check_error(cli.Post("/v1/predict", "[1, 2]", "application/json"), 400, "expected a JSON object");
    check_error(cli.Post("/v1/predict", R"({"inputs": []})", "application/json"), 400, "non-empty array");
    check_error(cli.Post("/v1/predict", R"({"inputs": [1, 2, 3, 4]})", "application/json"), 400, "is not an array");
    check_error(cli.Post("/v1/predict", R"({"inputs": [[1, 2, 3]]})", "application/json"), 422,
                "inputs[0] has 3 values, the model expects 4");
    check_error(cli.Post("/v1/predict", R"({"inputs": [[1, 2, 3, 4], [1, 2, 3, 4, 5]]})", "application/json"), 422,
                "inputs[1] has 5 values");
    check_error(cli.Post("/v1/predict", R"({"inputs": [[1, "2", 3, 4]]})", "application/json"), 422,
                "inputs[0][1] is not a number");
    check_error(cli.Post("/v1/predict", R"({"inputs": [[1, null, 3, 4]]})", "application/json"), 422,
                "is not a number");
    // A number beyond double's range is not valid JSON for the parser (no Inf can get in).
    check_error(cli.Post("/v1/predict", R"({"inputs": [[1, 1e999, 3, 4]]})", "application/json"), 400,
                "not valid JSON");
    check_error(cli.Post("/v1/predict", std::string(70000, ' '), "application/json"), 413,
                "exceeds the limit of 65536 bytes");
    check_error(cli.Get("/v1/nothing"), 404, "no such endpoint");
    auto again = cli.Get("/healthz");
    REQUIRE(again);
    CHECK(again->status == 200);
  }

  SECTION("8 threads x 200 concurrent requests all get the library's answer") {
    std::atomic<int> wrong{0}, failed{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t)
      clients.emplace_back([&, t] {
        nn::Sequential<float> mine = net;  // predict uses the network's buffers: one copy per thread
        httplib::Client c("127.0.0.1", server.port());
        c.set_read_timeout(30, 0);
        for (int r = 0; r < 200; ++r) {
          const Matrix<float> x = random_matrix<float>(1 + r % 3, 4, static_cast<std::uint64_t>(1000 * t + r));
          auto res = c.Post("/v1/predict", json{{"inputs", rows_json(x)}}.dump(), "application/json");
          if (!res || res->status != 200) {
            ++failed;
            continue;
          }
          if (!same_outputs(json::parse(res->body)["outputs"], mine.predict(x))) ++wrong;
        }
      });
    for (auto& c : clients) c.join();
    CHECK(failed == 0);
    CHECK(wrong == 0);
  }

  CHECK(server.stop() == 0);
  std::filesystem::remove(path);
}

TEST_CASE("the model server serves linear models", "[serve]") {
  const Matrix<double> X = random_matrix<double>(30, 3, 5);
  const auto path = temp_file("eigenml_serve_test_linear.safetensors");

  SECTION("LinearRegression: outputs, no labels") {
    eigenml::Vector<double> y = X.col(0) - 2.0 * X.col(2);
    eigenml::LinearRegression<double> m;
    m.fit(X, y);
    eigenml::io::save(m, path);
    ServerProcess server({"--model", path.string(), "--port", "0", "--threads", "2"});
    httplib::Client cli("127.0.0.1", server.port());
    const json model = json::parse(cli.Get("/v1/model")->body);
    CHECK(model["kind"] == "LinearRegression");
    CHECK(model["classifier"] == false);
    CHECK(model["input_size"] == 3);
    auto res = cli.Post("/v1/predict", json{{"inputs", rows_json(X)}}.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const json answer = json::parse(res->body);
    CHECK(same_outputs(answer["outputs"], Matrix<double>(m.predict(X))));
    CHECK_FALSE(answer.contains("labels"));
    check_error(cli.Post("/v1/predict", R"({"inputs": [[1, 2]]})", "application/json"), 422, "expects 3");
    CHECK(server.stop() == 0);
  }
  SECTION("LogisticRegression: probabilities and labels") {
    eigenml::Labels y(X.rows());
    for (eigenml::Index i = 0; i < X.rows(); ++i) y(i) = X(i, 0) + 0.5 * X(i, 1) > 0.3 * X(i, 2) * X(i, 2) ? 1 : 0;
    eigenml::LogisticRegression<float> c;
    const Matrix<float> Xf = X.cast<float>();
    c.fit(Xf, y);
    eigenml::io::save(c, path);
    ServerProcess server({"--model", path.string(), "--port", "0"});
    httplib::Client cli("127.0.0.1", server.port());
    auto res = cli.Post("/v1/predict", json{{"inputs", rows_json(Xf)}}.dump(), "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const json answer = json::parse(res->body);
    CHECK(same_outputs(answer["outputs"], c.predict_proba(Xf)));
    const eigenml::Labels labels = c.predict(Xf);
    REQUIRE(answer["labels"].size() == static_cast<std::size_t>(labels.size()));
    for (eigenml::Index i = 0; i < labels.size(); ++i) CHECK(answer["labels"][static_cast<std::size_t>(i)] == labels(i));
    CHECK(server.stop() == 0);
  }
  std::filesystem::remove(path);
}

TEST_CASE("the model server refuses a bad model file", "[serve]") {
  const auto path = temp_file("eigenml_serve_test_bad.safetensors");
  {
    std::FILE* f = std::fopen(path.string().c_str(), "wb");
    REQUIRE(f);
    std::fputs("not a model", f);
    std::fclose(f);
  }
  std::vector<std::string> args{EIGENML_SERVE_BINARY, "--model", path.string(), "--port", "0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, EIGENML_SERVE_BINARY, nullptr, nullptr, argv.data(), environ) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  std::filesystem::remove(path);
}
