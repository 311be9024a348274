// A model as a service: loads an eigenml model file (any Sequential, LinearRegression or
// LogisticRegression saved with eigenml::io::save) and answers predictions over HTTP.
//
//   serve --model m.safetensors [--host 127.0.0.1] [--port 8080] [--threads N] [--max-body-bytes N]
//
//   curl -s localhost:8080/healthz
//   curl -s localhost:8080/v1/model
//   curl -s -X POST localhost:8080/v1/predict -d '{"inputs": [[0.1, 0.2, ...]]}'
//
// Endpoints and error codes are described in serve_lib.hpp, which holds all request handling;
// this file is only the cpp-httplib glue. Listens on 127.0.0.1 unless told otherwise; `--port 0`
// picks a free port. The bound address is printed as the first line on stdout
// ("listening on http://127.0.0.1:PORT"). SIGINT / SIGTERM stop the server cleanly (exit code 0).

// serve_lib.hpp (Eigen) comes first: httplib.h pulls in <resolv.h>, whose `_res` macro would
// break Eigen headers parsed after it.
#include "serve_lib.hpp"

#include <httplib.h>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

namespace {

struct Args {
  std::string model;
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 4;
  long long max_body_bytes = 1 << 20;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: serve --model FILE [--host 127.0.0.1] [--port 8080] [--threads 4] "
               "[--max-body-bytes 1048576]\n",
               msg);
  std::exit(2);
}

long long parse_int(const std::string& flag, const char* text, long long lo, long long hi) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi)
    usage((flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]").c_str());
  return v;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("eigenml model server");
    if (i + 1 >= argc) usage(("missing value after " + flag).c_str());
    const char* value = argv[++i];
    if (flag == "--model")
      a.model = value;
    else if (flag == "--host")
      a.host = value;
    else if (flag == "--port")
      a.port = static_cast<int>(parse_int(flag, value, 0, 65535));
    else if (flag == "--threads")
      a.threads = static_cast<int>(parse_int(flag, value, 1, 256));
    else if (flag == "--max-body-bytes")
      a.max_body_bytes = parse_int(flag, value, 1, 1LL << 32);
    else
      usage(("unknown option " + flag).c_str());
  }
  if (a.model.empty()) usage("--model is required");
  return a;
}

void send(httplib::Response& res, const serve::Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, "application/json");
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);

  // SIGINT/SIGTERM are blocked in every thread (the server's workers inherit the mask) and
  // received by one thread with sigwait, which then stops the server: no work in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::unique_ptr<serve::Service> service;
  try {
    serve::LoadedModel loaded = serve::load_model(args.model);
    std::fprintf(stderr, "loaded %s (%s, %s): %ld inputs -> %ld outputs\n", args.model.c_str(),
                 loaded.info.model.c_str(), loaded.info.dtype.c_str(), static_cast<long>(loaded.model->input_size()),
                 static_cast<long>(loaded.model->output_size()));
    service = std::make_unique<serve::Service>(std::move(loaded), static_cast<std::size_t>(args.threads));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannot load the model: %s\n", e.what());
    return 1;
  }

  httplib::Server server;
  const int threads = args.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  server.set_payload_max_length(static_cast<std::size_t>(args.max_body_bytes));

  server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) { send(res, service->health()); });
  server.Get("/v1/model", [&](const httplib::Request&, httplib::Response& res) { send(res, service->model_info()); });
  server.Post("/v1/predict",
              [&](const httplib::Request& req, httplib::Response& res) { send(res, service->predict(req.body)); });

  // Statuses the library sets itself (413 body too large, 404, 400 bad request line) get a JSON
  // body too; replies our handlers already wrote are left alone.
  const long long max_body = args.max_body_bytes;
  server.set_error_handler(httplib::Server::HandlerWithResponse([max_body](const httplib::Request&,
                                                                         httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg;
    if (res.status == 413)
      msg = "request body exceeds the limit of " + std::to_string(max_body) + " bytes";
    else if (res.status == 404)
      msg = "no such endpoint (POST /v1/predict, GET /v1/model, GET /healthz)";
    else
      msg = "HTTP status " + std::to_string(res.status);
    send(res, serve::error_reply(res.status, msg));
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string msg = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      msg += std::string(": ") + e.what();
    } catch (...) {
    }
    send(res, serve::error_reply(500, msg));
  });

  const int port = args.port == 0 ? server.bind_to_any_port(args.host) : args.port;
  if (port < 0 || (args.port != 0 && !server.bind_to_port(args.host, args.port))) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", args.host.c_str(), args.port);
    return 1;
  }
  std::printf("listening on http://%s:%d\n", args.host.c_str(), port);
  std::fflush(stdout);

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "signal %d: stopping\n", sig);
    server.stop();
  });
  const bool ok = server.listen_after_bind();
  // Stopped by the signal thread, or failed on its own: then the signal thread still waits, and
  // this wakes it (otherwise the signal stays pending, blocked, and is harmless).
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  std::fprintf(stderr, "stopped\n");
  return ok ? 0 : 1;
}
