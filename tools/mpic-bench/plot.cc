// The --plot SVG, written by hand (no plotting dependency): two panels sharing a log-scale latency axis.
// Top: every measured request at (intended send time, latency), so a stall shows as a column and a backlog as a
// ramp. Bottom: the percentile curve on the usual 1/(1-p) axis (HdrHistogram's), where p99 and p99.9 get room.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "tools/mpic-bench/report.hh"

namespace mpic::bench {
namespace {

constexpr double W = 960, H = 760;
constexpr double L = 80, R = 30;      // left/right margins
constexpr double T1 = 50, B1 = 340;   // top panel: y from T1 to B1
constexpr double T2 = 420, B2 = 710;  // bottom panel
constexpr double max_points = 20'000; // beyond this the scatter keeps every tail point and a sample of the rest

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return b;
}

std::string label_ms(double ms) {
    char b[32];
    if (ms >= 1000) {
        std::snprintf(b, sizeof b, "%g s", ms / 1000);
    } else {
        std::snprintf(b, sizeof b, "%g ms", ms);
    }
    return b;
}

// A log-scale latency axis covering [lo, hi] ms in whole decades.
struct log_axis {
    double lo_exp, hi_exp, top, bottom;
    double y(double ms) const {
        const double e = std::log10(std::max(ms, std::pow(10.0, lo_exp)));
        return bottom - (e - lo_exp) / (hi_exp - lo_exp) * (bottom - top);
    }
};

void y_grid(std::ostringstream& o, const log_axis& a) {
    for (double e = a.lo_exp; e <= a.hi_exp + 1e-9; e += 1) {
        const double y = a.y(std::pow(10.0, e));
        o << "<line x1='" << L << "' y1='" << num(y) << "' x2='" << W - R << "' y2='" << num(y)
          << "' stroke='#ddd'/><text x='" << L - 6 << "' y='" << num(y + 4) << "' text-anchor='end'>"
          << label_ms(std::pow(10.0, e)) << "</text>\n";
    }
}

} // namespace

std::string render_svg(const run_report& r) {
    const auto& samples = r.load.samples;
    std::vector<double> lat_ms;
    lat_ms.reserve(samples.size());
    double t_max = r.config.duration_s;
    for (const auto& s : samples) {
        lat_ms.push_back(s.latency_us / 1000.0);
        t_max = std::max(t_max, s.intended_s);
    }
    std::vector<double> sorted = lat_ms;
    std::sort(sorted.begin(), sorted.end());
    const double lo = sorted.empty() ? 0.1 : std::max(sorted.front(), 0.01);
    const double hi = sorted.empty() ? 1 : std::max(sorted.back(), lo * 10);
    const log_axis top{std::floor(std::log10(lo)), std::ceil(std::log10(hi)), T1, B1};
    const log_axis bottom{top.lo_exp, top.hi_exp, T2, B2};

    std::ostringstream o;
    o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "' font-family='sans-serif' "
      << "font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n";
    o << "<text x='" << L << "' y='22' font-size='15'>mpic-bench: " << r.mix << ", "
      << (r.config.mode == load_mode::closed ? "closed loop " + std::to_string(r.config.concurrency) + " concurrent"
                                             : "open loop " + num(r.config.rate) + " req/s")
      << (r.scenario.empty() ? "" : ", lab " + r.scenario) << ", " << samples.size() << " requests</text>\n";

    // Top panel: latency over time.
    o << "<text x='" << L << "' y='" << T1 - 8 << "'>latency of each request (from its intended send time) over the "
      << "window</text>\n";
    y_grid(o, top);
    for (int s = 0; s <= 10; ++s) {
        const double t = t_max * s / 10.0;
        const double x = L + (W - L - R) * s / 10.0;
        o << "<text x='" << num(x) << "' y='" << B1 + 16 << "' text-anchor='middle'>" << num(t) << " s</text>\n";
    }
    o << "<rect x='" << L << "' y='" << T1 << "' width='" << W - L - R << "' height='" << B1 - T1
      << "' fill='none' stroke='#888'/>\n<g fill='#1f77b4' fill-opacity='0.5'>\n";
    const double p99 = sorted.empty() ? 0 : sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
    const double keep_every = std::max(1.0, static_cast<double>(samples.size()) / max_points);
    double next_keep = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const bool tail = lat_ms[i] >= p99;
        if (!tail && static_cast<double>(i) < next_keep) {
            continue;
        }
        if (!tail) {
            next_keep += keep_every;
        }
        const double x = L + (W - L - R) * (t_max > 0 ? samples[i].intended_s / t_max : 0);
        const bool error = samples[i].result == outcome::http_error || samples[i].result == outcome::transport_error;
        o << "<circle cx='" << num(x) << "' cy='" << num(top.y(lat_ms[i])) << "' r='1.6'"
          << (error ? " fill='#d62728'" : "") << "/>\n";
    }
    o << "</g>\n";

    // Bottom panel: percentile curve. x = log10(1/(1-p)), from p = 0 to the largest p the sample supports.
    const double n = static_cast<double>(sorted.size());
    const double x_max = n > 1 ? std::ceil(std::log10(n)) : 1;
    auto xp = [&](double p) { return L + (W - L - R) * std::log10(1.0 / (1.0 - p)) / x_max; };
    o << "<text x='" << L << "' y='" << T2 - 8 << "'>latency by percentile (decisions and errors together)</text>\n";
    y_grid(o, bottom);
    for (int d = 0; d <= static_cast<int>(x_max); ++d) {
        const double p = 1.0 - std::pow(10.0, -d);
        char name[32];
        std::snprintf(name, sizeof name, d == 0 ? "0%%" : "%.*f%%", std::max(0, d - 2), p * 100);
        o << "<line x1='" << num(xp(p)) << "' y1='" << T2 << "' x2='" << num(xp(p)) << "' y2='" << B2
          << "' stroke='#ddd'/><text x='" << num(xp(p)) << "' y='" << B2 + 16 << "' text-anchor='middle'>" << name
          << "</text>\n";
    }
    o << "<rect x='" << L << "' y='" << T2 << "' width='" << W - L - R << "' height='" << B2 - T2
      << "' fill='none' stroke='#888'/>\n<polyline fill='none' stroke='#1f77b4' stroke-width='2' points='";
    // One vertex per distinct x pixel is enough; the last (max) is always drawn.
    double last_x = -1;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        const double p = static_cast<double>(i) / n;
        const double x = xp(p);
        if (x - last_x < 0.5 && i + 1 != sorted.size()) {
            continue;
        }
        last_x = x;
        o << num(x) << "," << num(bottom.y(sorted[i])) << " ";
    }
    o << "'/>\n</svg>\n";
    return o.str();
}

} // namespace mpic::bench
