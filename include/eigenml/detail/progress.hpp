#pragma once
/// \file detail/progress.hpp
/// A one-line training progress bar on stderr (epoch, batch, loss, samples/s, ETA), drawn only
/// when asked for and stderr is a terminal, at most ~10 times a second. It formats into a stack
/// buffer with snprintf, so drawing allocates nothing.

#include <chrono>
#include <cstdio>

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

namespace eigenml::detail {

inline bool stderr_is_terminal() {
#if defined(_WIN32)
  return _isatty(_fileno(stderr)) != 0;
#else
  return isatty(fileno(stderr)) != 0;
#endif
}

class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;

  ProgressBar(bool requested, int epochs, long long batches_per_epoch, long long samples_per_epoch)
      : enabled_(requested && stderr_is_terminal()),
        epochs_(epochs),
        batches_(batches_per_epoch),
        samples_(samples_per_epoch) {}

  bool enabled() const { return enabled_; }

  void start_epoch() {
    if (!enabled_) return;
    epoch_start_ = Clock::now();
    last_draw_ = epoch_start_ - std::chrono::seconds(1);
  }

  /// After batch `batch` (1-based) of epoch `epoch` (1-based); `loss` is the running mean.
  void update(int epoch, long long batch, long long samples_done, double loss) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (batch < batches_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(samples_done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(samples_ - samples_done) / rate : 0.0;
    constexpr int width = 24;
    char bar[width + 1];
    const int filled = static_cast<int>(width * batch / (batches_ > 0 ? batches_ : 1));
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[width] = '\0';
    std::fprintf(stderr, "\repoch %d/%d [%s] %lld/%lld  loss %.4g  %.0f samples/s  ETA %.1fs   ", epoch, epochs_, bar,
                 batch, batches_, loss, rate, eta);
    if (batch >= batches_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  int epochs_;
  long long batches_, samples_;
  Clock::time_point epoch_start_{}, last_draw_{};
};

}  // namespace eigenml::detail
