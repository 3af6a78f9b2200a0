#include "report/chart.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

namespace crisisd::report {
namespace {

// Layout, in SVG user units (pixels at 100 %).
constexpr double width = 1160;
constexpr double left = 70, right = 70;  // room for the axes' labels
constexpr double plot_w = width - left - right;
constexpr double header_h = 78;
constexpr double volume_h = 150;
constexpr double gap_h = 14;
constexpr double negative_h = 58;
constexpr double panel_title_h = 40;
constexpr double axis_h = 30;
constexpr double panel_h = panel_title_h + volume_h + gap_h + negative_h + axis_h + 26;

constexpr const char* volume_colour = "#2f6db5";
constexpr const char* baseline_colour = "#404a57";
constexpr const char* fire_colour = "#e08a1e";
constexpr const char* negative_colour = "#c8352f";
constexpr const char* incident_fill = "#f7d9d6";
constexpr const char* open_colour = "#c8352f";
constexpr const char* clear_colour = "#2e8b57";
constexpr const char* grid_colour = "#e3e6ea";
constexpr const char* text_colour = "#1f2933";
constexpr const char* muted_colour = "#6b7785";

std::string escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::tm utc(core::timestamp t) {
    const std::time_t s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
    std::tm tm{};
    gmtime_r(&s, &tm);
    return tm;
}

std::string format_time(core::timestamp t, const char* fmt) {
    const std::tm tm = utc(t);
    char buf[48];
    std::strftime(buf, sizeof buf, fmt, &tm);
    return buf;
}

// A step between time ticks that gives roughly 6–12 labels over the span.
core::duration time_step(core::duration span) {
    using namespace std::chrono;
    static const std::array<core::duration, 16> steps{
        seconds(10), seconds(30), minutes(1),  minutes(2), minutes(5), minutes(10), minutes(15), minutes(30),
        hours(1),    hours(2),    hours(3),    hours(6),   hours(12),  hours(24),   hours(48),   hours(24 * 7)};
    for (auto s : steps)
        if (span / s <= 10) return s;
    return steps.back();
}

// 1, 2, 2.5 or 5 times a power of ten, so that `top` needs about four steps.
double nice_step(double top) {
    if (top <= 0) return 1;
    const double raw = top / 4;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (raw <= m * p) return m * p;
    return 10 * p;
}

std::string format_value(double v) {
    char buf[32];
    if (v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f", v);
    else if (v >= 1) std::snprintf(buf, sizeof buf, "%.1f", v);
    else std::snprintf(buf, sizeof buf, "%.2g", v);
    return buf;
}

// The threshold of the first condition on `m` that fires on high values (>= or >), if any.
std::optional<double> fire_threshold(const detect::condition_group& g, detect::metric m) {
    if (!g.all && g.conditions.size() > 1) return std::nullopt;  // with `any`, one line would mislead
    for (const auto& c : g.conditions)
        if (c.what == m && (c.op == detect::comparison::ge || c.op == detect::comparison::gt)) return c.threshold;
    return std::nullopt;
}

// One pixel column of a series: the peak volume (so short spikes stay visible), the mean
// baseline and the negative share weighted by mention count.
struct column {
    bool any = false;
    double rate = 0, baseline = 0, neg_weighted = 0, count = 0;
    int baseline_n = 0;
};

// The time range drawn and where a time lands on the x axis.
struct time_axis {
    core::timestamp t0, t1;
    double span_us = 1;
    double x_of(core::timestamp t) const { return left + plot_w * static_cast<double>((t - t0).count()) / span_us; }
};

using series_map = std::map<std::pair<std::size_t, std::string>, std::vector<chart_recorder::point>>;

// One key's panel: its samples, how many incidents it had, its peak volume.
struct panel {
    const std::pair<std::size_t, std::string>* id;
    const std::vector<chart_recorder::point>* points;
    std::size_t incidents = 0;
    double peak = 0;
};

// Where a panel's parts sit, and its volume scale.
struct panel_frame {
    double top = 0, vol_y = 0, neg_y = 0, axis_y = 0;
    double ytop = 1, ystep = 1;
    double y_vol(double v) const { return vol_y + volume_h - volume_h * std::min(v, ytop) / ytop; }
    double y_neg(double v) const { return neg_y + negative_h - negative_h * v; }
};

double x_col(std::size_t i) { return left + static_cast<double>(i) + 0.5; }

std::string hline(double y, const char* colour) {
    return "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(width - right) + "\" y2=\"" + num(y) +
           "\" stroke=\"" + colour + "\"";
}

// Which keys: those with incidents first, then the busiest.
std::vector<panel> choose_panels(const series_map& series, const pipeline::pipeline& p) {
    const auto& incidents = p.incidents().incidents();
    std::vector<panel> panels;
    for (const auto& [id, pts] : series) {
        panel pn{&id, &pts, 0, 0};
        for (const auto& pt : pts) pn.peak = std::max(pn.peak, static_cast<double>(pt.rate));
        const auto& rule_name = p.rules()[id.first].name;
        for (const auto& inc : incidents) pn.incidents += inc.rule == rule_name && inc.key == id.second;
        panels.push_back(pn);
    }
    std::stable_sort(panels.begin(), panels.end(), [](const panel& a, const panel& b) {
        if ((a.incidents > 0) != (b.incidents > 0)) return a.incidents > 0;
        return a.peak > b.peak;
    });
    return panels;
}

// Title, time range, counts and the legend.
void write_header(std::string& s, const std::string& title_text, const time_axis& axis, const pipeline::pipeline& p,
                  std::size_t hidden) {
    std::string title = title_text.empty() ? std::string("crisisd replay") : "crisisd replay — " + title_text;
    s += "<text x=\"" + num(left) + "\" y=\"28\" font-size=\"18\" font-weight=\"bold\">" + escape(title) + "</text>\n";
    std::size_t opened = p.incidents().incidents().size();
    s += "<text x=\"" + num(left) + "\" y=\"48\" fill=\"" + muted_colour + "\">" +
         escape(format_time(axis.t0, "%Y-%m-%d %H:%M") + " – " + format_time(axis.t1, "%Y-%m-%d %H:%M") + " UTC · " +
                std::to_string(p.processed()) + " mentions, " + std::to_string(p.matched()) + " matched · " +
                std::to_string(opened) + (opened == 1 ? " incident" : " incidents")) +
         (hidden > 0 ? escape(" · " + std::to_string(hidden) + " quieter key(s) not shown") : std::string()) +
         "</text>\n";
    double x = left;
    const double y = 66;
    auto legend = [&](const std::string& swatch, std::string_view label) {
        s += swatch;
        s += "<text x=\"" + num(x + 26) + "\" y=\"" + num(y + 4) + "\">" + escape(label) + "</text>\n";
        x += 34 + 7.2 * static_cast<double>(label.size());
    };
    auto line = [&](const char* colour, const char* dash, double w) {
        return "<line x1=\"" + num(x) + "\" y1=\"" + num(y) + "\" x2=\"" + num(x + 20) + "\" y2=\"" + num(y) +
               "\" stroke=\"" + colour + "\" stroke-width=\"" + num(w) + "\"" +
               (dash[0] ? std::string(" stroke-dasharray=\"") + dash + "\"" : std::string()) + "/>\n";
    };
    legend(line(volume_colour, "", 2), "volume (mentions/min in the window)");
    legend(line(baseline_colour, "5 3", 1.5), "baseline");
    legend(line(fire_colour, "2 3", 1.5), "fire level");
    legend(line(negative_colour, "", 1.5), "negative share");
    legend("<rect x=\"" + num(x) + "\" y=\"" + num(y - 6) + "\" width=\"20\" height=\"12\" fill=\"" + incident_fill + "\"/>\n",
           "incident open");
}

std::size_t bin_of(const time_axis& axis, std::size_t columns, core::timestamp t) {
    const double f = static_cast<double>((t - axis.t0).count()) / axis.span_us;
    return std::min(columns - 1, static_cast<std::size_t>(std::max(0.0, f * static_cast<double>(columns))));
}

// Bins the samples into pixel columns; a gap longer than two steps is a retired key, zero.
std::vector<column> bin_columns(const std::vector<chart_recorder::point>& pts, const time_axis& axis, core::duration step) {
    const auto columns = static_cast<std::size_t>(plot_w);
    std::vector<column> cols(columns);
    for (const auto& pt : pts) {
        column& c = cols[bin_of(axis, columns, pt.at)];
        c.any = true;
        c.rate = std::max(c.rate, static_cast<double>(pt.rate));
        c.baseline += pt.baseline;
        ++c.baseline_n;
        c.neg_weighted += static_cast<double>(pt.negative_ratio) * pt.count;
        c.count += pt.count;
    }
    // Columns between two samples close in time (a zoomed-in chart has more columns than
    // samples) take the interpolated values, so lines stay lines instead of combs.
    for (std::size_t k = 1; k < pts.size(); ++k) {
        const auto& a = pts[k - 1];
        const auto& b = pts[k];
        if (b.at - a.at > step * 5 / 2) continue;
        const std::size_t ca = bin_of(axis, columns, a.at), cb = bin_of(axis, columns, b.at);
        for (std::size_t i = ca + 1; i < cb; ++i) {
            if (cols[i].any) continue;
            const double f = static_cast<double>(i - ca) / static_cast<double>(cb - ca);
            auto mix = [f](float x, float y) { return static_cast<double>(x) + f * static_cast<double>(y - x); };
            column& c = cols[i];
            c.any = true;
            c.rate = mix(a.rate, b.rate);
            c.baseline = mix(a.baseline, b.baseline);
            c.baseline_n = 1;
            c.count = mix(a.count, b.count);
            c.neg_weighted = mix(a.negative_ratio, b.negative_ratio) * c.count;
        }
    }
    return cols;
}

// The panel's title and facts, and its incidents' spans behind everything else.
void write_panel_title(std::string& s, const panel_frame& f, const panel& pn, const pipeline::rule_settings& rule,
                       const std::string& key, const pipeline::pipeline& p, const time_axis& axis) {
    std::string heading = rule.name + (key.empty() ? "" : " · " + key);
    s += "<text x=\"" + num(left) + "\" y=\"" + num(f.top + 22) + "\" font-size=\"15\" font-weight=\"bold\">" +
         escape(heading) + "</text>\n";
    char info[160];
    std::snprintf(info, sizeof info, "peak %s/min · %zu incident%s · window %s, baseline half-life %s",
                  format_value(std::round(pn.peak * 10) / 10).c_str(), pn.incidents, pn.incidents == 1 ? "" : "s",
                  core::format_duration(rule.detect.window).c_str(), core::format_duration(rule.detect.baseline).c_str());
    s += "<text x=\"" + num(width - right) + "\" y=\"" + num(f.top + 22) + "\" text-anchor=\"end\" fill=\"" +
         muted_colour + "\">" + escape(info) + "</text>\n";
    for (const auto& inc : p.incidents().incidents()) {
        if (inc.rule != rule.name || inc.key != key) continue;
        const double xa = axis.x_of(inc.opened_at);
        const double xb = axis.x_of(inc.resolved_at.value_or(axis.t1));
        s += "<rect x=\"" + num(xa) + "\" y=\"" + num(f.vol_y) + "\" width=\"" + num(std::max(2.0, xb - xa)) +
             "\" height=\"" + num(f.axis_y - f.vol_y) + "\" fill=\"" + incident_fill + "\" opacity=\"0.8\"/>\n";
    }
}

// Grid lines and the two y axes (volume, negative share).
void write_grid(std::string& s, const panel_frame& f) {
    for (double v = 0; v <= f.ytop + f.ystep / 2; v += f.ystep) {
        const double y = f.y_vol(v);
        s += hline(y, grid_colour) + "/>\n";
        s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\" fill=\"" + muted_colour +
             "\">" + format_value(v) + "</text>\n";
    }
    s += "<text transform=\"translate(" + num(left - 48) + " " + num(f.vol_y + volume_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" fill=\"" + muted_colour + "\" font-size=\"11\">per minute</text>\n";
    for (double v : {0.0, 0.5, 1.0}) {
        const double y = f.y_neg(v);
        s += hline(y, grid_colour) + "/>\n";
        s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\" fill=\"" + muted_colour +
             "\">" + format_value(v * 100) + "%</text>\n";
    }
    s += "<text x=\"" + num(width - right + 8) + "\" y=\"" + num(f.neg_y + negative_h / 2 + 4) + "\" fill=\"" +
         negative_colour + "\" font-size=\"11\">negative</text>\n";
}

// The time axis: ticks on round times of the chosen step.
void write_time_axis(std::string& s, const panel_frame& f, const time_axis& axis) {
    const core::duration tstep = time_step(axis.t1 - axis.t0);
    const bool multi_day = (axis.t1 - axis.t0) >= std::chrono::hours(20);
    const auto step_us = tstep.count();
    auto first_tick = axis.t0.time_since_epoch().count();
    first_tick = (first_tick + step_us - 1) / step_us * step_us;
    int last_day = -1;
    for (auto us = first_tick; us <= axis.t1.time_since_epoch().count(); us += step_us) {
        const core::timestamp t{core::duration{us}};
        const double x = axis.x_of(t);
        s += "<line x1=\"" + num(x) + "\" y1=\"" + num(f.vol_y) + "\" x2=\"" + num(x) + "\" y2=\"" + num(f.axis_y) +
             "\" stroke=\"" + grid_colour + "\"/>\n";
        const std::tm tm = utc(t);
        std::string label = format_time(t, tstep < std::chrono::minutes(1) ? "%H:%M:%S" : "%H:%M");
        if (multi_day || tm.tm_yday != last_day) {
            if (tm.tm_hour == 0 && tm.tm_min == 0 && multi_day) label = format_time(t, "%b %d");
            else if (tm.tm_yday != last_day && last_day == -1) label = format_time(t, "%b %d ") + label;
        }
        last_day = tm.tm_yday;
        const bool day_start = tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0;
        s += "<text x=\"" + num(x) + "\" y=\"" + num(f.axis_y + 16) + "\" text-anchor=\"middle\" fill=\"" +
             (day_start ? text_colour : muted_colour) + "\"" + (day_start ? " font-weight=\"bold\"" : "") + ">" +
             escape(label) + "</text>\n";
    }
    s += hline(f.axis_y, "#9aa5b1") + "/>\n";
}

// Volume as a filled area under the peak-per-column line (zero where the key was not live);
// baseline, fire level and negative share only where the key was live.
void write_lines(std::string& s, const panel_frame& f, const std::vector<column>& cols, std::size_t first_col,
                 std::size_t last_col, std::optional<double> fire_ratio) {
    std::string line, area;
    area = "M" + num(x_col(first_col)) + "," + num(f.y_vol(0));
    for (std::size_t i = first_col; i <= last_col; ++i) {
        const double v = cols[i].any ? cols[i].rate : 0.0;
        const std::string pt = num(x_col(i)) + "," + num(f.y_vol(v));
        line += (line.empty() ? "M" : "L") + pt;
        area += "L" + pt;
    }
    area += "L" + num(x_col(last_col)) + "," + num(f.y_vol(0)) + "Z";
    s += "<path d=\"" + area + "\" fill=\"" + volume_colour + "\" fill-opacity=\"0.18\"/>\n";
    s += "<path d=\"" + line + "\" fill=\"none\" stroke=\"" + volume_colour +
         "\" stroke-width=\"1.6\" stroke-linejoin=\"round\"/>\n";
    std::string base, fire, neg;
    bool base_open = false, neg_open = false;
    for (std::size_t i = first_col; i <= last_col; ++i) {
        const column& c = cols[i];
        if (!c.any) {
            base_open = neg_open = false;
            continue;
        }
        const double b = c.baseline / c.baseline_n;
        base += (base_open ? "L" : "M") + num(x_col(i)) + "," + num(f.y_vol(b));
        if (fire_ratio && b * *fire_ratio <= f.ytop)
            fire += (base_open ? "L" : "M") + num(x_col(i)) + "," + num(f.y_vol(b * *fire_ratio));
        else if (fire_ratio)
            fire += "M" + num(x_col(i)) + "," + num(f.y_vol(f.ytop));
        base_open = true;
        if (c.count > 0) {
            neg += (neg_open ? "L" : "M") + num(x_col(i)) + "," + num(f.y_neg(c.neg_weighted / c.count));
            neg_open = true;
        } else {
            neg_open = false;
        }
    }
    s += "<path d=\"" + base + "\" fill=\"none\" stroke=\"" + baseline_colour +
         "\" stroke-width=\"1.3\" stroke-dasharray=\"5 3\"/>\n";
    if (!fire.empty())
        s += "<path d=\"" + fire + "\" fill=\"none\" stroke=\"" + fire_colour +
             "\" stroke-width=\"1.3\" stroke-dasharray=\"2 3\"/>\n";
    s += "<path d=\"" + neg + "\" fill=\"none\" stroke=\"" + negative_colour +
         "\" stroke-width=\"1.3\" stroke-linejoin=\"round\"/>\n";
}

// Opening and clearing marks, labelled with their times.
void write_marks(std::string& s, const panel_frame& f, const time_axis& axis, const pipeline::pipeline& p,
                 const std::string& rule, const std::string& key) {
    const bool multi_day = (axis.t1 - axis.t0) >= std::chrono::hours(20);
    const char* stamp = multi_day ? "%b %d %H:%M" : "%H:%M:%S";
    for (const auto& inc : p.incidents().incidents()) {
        if (inc.rule != rule || inc.key != key) continue;
        const double xa = axis.x_of(inc.opened_at);
        s += "<line x1=\"" + num(xa) + "\" y1=\"" + num(f.vol_y - 4) + "\" x2=\"" + num(xa) + "\" y2=\"" + num(f.axis_y) +
             "\" stroke=\"" + open_colour + "\" stroke-width=\"1.6\"/>\n";
        s += "<path d=\"M" + num(xa - 5) + "," + num(f.vol_y - 10) + "L" + num(xa + 5) + "," + num(f.vol_y - 10) + "L" +
             num(xa) + "," + num(f.vol_y - 3) + "Z\" fill=\"" + open_colour + "\"/>\n";
        const bool flip = xa > width - right - 160;
        s += "<text x=\"" + num(xa + (flip ? -8 : 8)) + "\" y=\"" + num(f.vol_y + 4) + "\"" +
             (flip ? " text-anchor=\"end\"" : "") + " fill=\"" + open_colour + "\" font-weight=\"bold\">#" +
             std::to_string(inc.id) + " opened " + format_time(inc.opened_at, stamp) + "</text>\n";
        if (!inc.resolved_at) continue;
        const double xb = axis.x_of(*inc.resolved_at);
        s += "<line x1=\"" + num(xb) + "\" y1=\"" + num(f.vol_y) + "\" x2=\"" + num(xb) + "\" y2=\"" + num(f.axis_y) +
             "\" stroke=\"" + clear_colour + "\" stroke-width=\"1.6\" stroke-dasharray=\"4 2\"/>\n";
        const bool flip_b = xb > width - right - 160;
        s += "<text x=\"" + num(xb + (flip_b ? -6 : 6)) + "\" y=\"" + num(f.vol_y + 20) + "\"" +
             (flip_b ? " text-anchor=\"end\"" : "") + " fill=\"" + clear_colour + "\">cleared " +
             format_time(*inc.resolved_at, stamp) + "</text>\n";
    }
}

void write_panel(std::string& s, double top, const panel& pn, const pipeline::pipeline& p, const time_axis& axis,
                 core::duration step) {
    const auto& rule = p.rules()[pn.id->first];
    const auto& key = pn.id->second;
    const auto& pts = *pn.points;
    panel_frame f;
    f.top = top;
    f.vol_y = top + panel_title_h;
    f.neg_y = f.vol_y + volume_h + gap_h;
    f.axis_y = f.neg_y + negative_h;
    const auto cols = bin_columns(pts, axis, step);
    const auto fire_ratio = fire_threshold(rule.detect.fire_when, detect::metric::volume_ratio);
    const auto neg_threshold = fire_threshold(rule.detect.fire_when, detect::metric::negative_ratio);
    double ymax = 0;
    for (const auto& c : cols) {
        if (!c.any) continue;
        ymax = std::max(ymax, c.rate);
        const double b = c.baseline / c.baseline_n;
        ymax = std::max(ymax, b);
        if (fire_ratio && b * *fire_ratio <= std::max(ymax, pn.peak) * 1.5) ymax = std::max(ymax, b * *fire_ratio);
    }
    f.ystep = nice_step(ymax > 0 ? ymax : 1);
    f.ytop = std::max(f.ystep, std::ceil(ymax / f.ystep) * f.ystep);

    write_panel_title(s, f, pn, rule, key, p, axis);
    write_grid(s, f);
    write_time_axis(s, f, axis);
    if (!pts.empty()) {
        const auto columns = static_cast<std::size_t>(plot_w);
        write_lines(s, f, cols, bin_of(axis, columns, pts.front().at), bin_of(axis, columns, pts.back().at), fire_ratio);
    }
    if (neg_threshold)
        s += hline(f.y_neg(*neg_threshold), fire_colour) + " stroke-width=\"1.1\" stroke-dasharray=\"2 3\"/>\n";
    write_marks(s, f, axis, p, rule.name, key);
}

}  // namespace

chart_recorder::chart_recorder(chart_options o) : options_(std::move(o)) {}

void chart_recorder::sample(const pipeline::pipeline& p, core::timestamp t) {
    if (next_sample_ && t < *next_sample_) return;
    if (!next_sample_) first_ = t;
    next_sample_ = t + options_.step;
    last_ = t;
    const auto& det = p.detector();
    for (std::size_t r = 0; r < p.rules().size(); ++r) {
        for (auto& key : det.keys(r)) {
            auto it = series_.find({r, key});
            if (it == series_.end()) {
                if (series_.size() >= options_.max_series) continue;
                it = series_.emplace(std::make_pair(r, std::move(key)), std::vector<point>{}).first;
            }
            const auto m = det.metrics(r, it->first.second, t);
            if (!m) continue;
            it->second.push_back(point{t, static_cast<float>(m->rate), static_cast<float>(std::max(m->baseline_rate, p.rules()[r].detect.min_baseline_rate)),
                                       static_cast<float>(m->negative_ratio), static_cast<float>(m->count)});
        }
    }
}

std::string chart_recorder::render(const pipeline::pipeline& p) const {
    time_axis axis{first_, last_};
    for (const auto& inc : p.incidents().incidents()) {
        axis.t0 = std::min(axis.t0, inc.opened_at);
        axis.t1 = std::max(axis.t1, inc.resolved_at.value_or(inc.opened_at));
    }
    if (axis.t1 <= axis.t0) axis.t1 = axis.t0 + std::chrono::minutes(1);
    axis.span_us = static_cast<double>((axis.t1 - axis.t0).count());

    auto panels = choose_panels(series_, p);
    const std::size_t hidden = panels.size() > options_.max_panels ? panels.size() - options_.max_panels : 0;
    if (hidden > 0) panels.resize(options_.max_panels);

    const double height = header_h + static_cast<double>(std::max<std::size_t>(panels.size(), 1)) * panel_h + 10;
    std::string s;
    s.reserve(64 * 1024);
    s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
         "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"" + text_colour + "\">\n";
    s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    write_header(s, options_.title, axis, p, hidden);
    if (panels.empty()) {
        s += "<text x=\"" + num(left) + "\" y=\"" + num(header_h + 40) + "\" fill=\"" + muted_colour +
             "\">No mention matched a rule: nothing to draw.</text>\n";
    }
    double top = header_h;
    for (const auto& pn : panels) {
        write_panel(s, top, pn, p, axis, options_.step);
        top += panel_h;
    }
    s += "</svg>\n";
    return s;
}

}  // namespace crisisd::report
