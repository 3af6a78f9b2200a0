// crisisd-eval-sentiment: accuracy of crisisd's sentiment scorer on a labelled file.
//
//   crisisd-eval-sentiment [--lang en|de|auto] [--neutral-band X] FILE
//
// FILE is tab-separated, one item per line, in one of two formats (detected from the 2nd column):
//   VADER ground truth:  id TAB mean-rating(-4..4) TAB text
//       prints Pearson r (compound vs rating) and support-weighted 3-class precision/recall/F1,
//       gold class = sign of the rating (neutral only if exactly 0), as in Hutto & Gilbert 2014.
//   PotTS:               id TAB positive|negative|neutral|mixed TAB text
//       prints micro-F1 (= accuracy) over positive/negative/neutral; "mixed" is excluded, as in
//       the published PotTS evaluation.
// Predicted class: positive if compound >= band, negative if <= -band, else neutral. The band
// defaults to VADER's documented 0.05 (see README for why crisisd keeps it for German too).
// --lang defaults to "en" for the VADER format and "de" for PotTS.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "score/scorer.hpp"

namespace {

enum cls { negative = 0, neutral = 1, positive = 2 };

struct item {
    double rating = 0;
    int gold = neutral;
    std::string text;
};

int classify(double compound, double band) {
    if (compound >= band) return positive;
    if (compound <= -band) return negative;
    return neutral;
}

bool parse_number(std::string_view s, double& out) {
    if (s.empty()) return false;
    const std::string copy(s);
    char* end = nullptr;
    out = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() + copy.size();
}

int usage() {
    std::cerr << "usage: crisisd-eval-sentiment [--lang en|de|auto] [--neutral-band X] FILE\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    std::string lang;
    double band = 0.05;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--lang" && i + 1 < argc) {
            lang = argv[++i];
        } else if (arg == "--neutral-band" && i + 1 < argc) {
            band = std::atof(argv[++i]);
        } else if (!arg.empty() && arg[0] != '-' && path.empty()) {
            path = arg;
        } else {
            return usage();
        }
    }
    if (path.empty()) return usage();
    std::ifstream in(path);
    if (!in) {
        std::cerr << "crisisd-eval-sentiment: cannot open " << path << "\n";
        return 1;
    }

    std::vector<item> items;
    bool vader_format = true;
    bool format_known = false;
    std::size_t skipped = 0;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::size_t t1 = line.find('\t');
        const std::size_t t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) {
            ++skipped;
            continue;
        }
        const std::string_view label(line.data() + t1 + 1, t2 - t1 - 1);
        item it;
        it.text = line.substr(t2 + 1);
        double rating = 0;
        const bool numeric = parse_number(label, rating);
        if (!format_known) {
            vader_format = numeric;
            format_known = true;
        }
        if (vader_format) {
            if (!numeric) {
                ++skipped;
                continue;
            }
            it.rating = rating;
            it.gold = rating > 0 ? positive : rating < 0 ? negative : neutral;
        } else if (label == "positive") {
            it.gold = positive;
        } else if (label == "negative") {
            it.gold = negative;
        } else if (label == "neutral") {
            it.gold = neutral;
        } else {
            ++skipped;  // "mixed" and anything unknown
            continue;
        }
        items.push_back(std::move(it));
    }
    if (items.empty()) {
        std::cerr << "crisisd-eval-sentiment: no labelled items in " << path << "\n";
        return 1;
    }
    if (lang.empty()) lang = vader_format ? "en" : "de";
    const std::string score_lang = lang == "auto" ? "" : lang;

    const crisisd::score::scorer scorer;
    long confusion[3][3] = {};  // [gold][predicted]
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (const item& it : items) {
        const double c = scorer.score(it.text, score_lang).compound;
        ++confusion[it.gold][classify(c, band)];
        sx += c;
        sy += it.rating;
        sxx += c * c;
        syy += it.rating * it.rating;
        sxy += c * it.rating;
    }
    const double n = static_cast<double>(items.size());
    static constexpr const char* names[3] = {"negative", "neutral", "positive"};

    std::printf("file: %s\nformat: %s\nitems: %zu (skipped %zu)\nlanguage: %s\nneutral band: +-%.3f\n", path.c_str(),
                vader_format ? "VADER (id, rating, text)" : "PotTS (id, label, text)", items.size(), skipped,
                lang.c_str(), band);
    double wp = 0, wr = 0, wf = 0;
    long correct = 0;
    std::printf("%-9s %8s %9s %7s %7s\n", "class", "support", "precision", "recall", "f1");
    for (int c = 0; c < 3; ++c) {
        long support = 0, predicted = 0;
        for (int k = 0; k < 3; ++k) {
            support += confusion[c][k];
            predicted += confusion[k][c];
        }
        correct += confusion[c][c];
        const double p = predicted ? static_cast<double>(confusion[c][c]) / static_cast<double>(predicted) : 0;
        const double r = support ? static_cast<double>(confusion[c][c]) / static_cast<double>(support) : 0;
        const double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
        std::printf("%-9s %8ld %9.3f %7.3f %7.3f\n", names[c], support, p, r, f);
        wp += p * static_cast<double>(support) / n;
        wr += r * static_cast<double>(support) / n;
        wf += f * static_cast<double>(support) / n;
    }
    const double accuracy = static_cast<double>(correct) / n;
    if (vader_format) {
        const double r = (n * sxy - sx * sy) / std::sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
        std::printf("pearson_r: %.4f\nweighted_precision: %.4f\nweighted_recall: %.4f\nweighted_f1: %.4f\n", r, wp, wr,
                    wf);
    } else {
        std::printf("micro_f1: %.4f\nweighted_f1: %.4f\n", accuracy, wf);
    }
    return 0;
}
