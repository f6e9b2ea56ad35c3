// Tests of the per-round concept statistics (concepts/concept_summary.h) on synthetic stores whose
// concept scores, answers and option probabilities follow formulas the expectations are computed from.
#include "concepts/concept_summary.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "../store/store_test_util.h"
#include "store/store.h"

namespace isc::concepts {
namespace {

using nlohmann::json;

const std::vector<std::string> kConditions = {"baseline", "self-correct", "self-correct+steer"};
const char* const kName = "bias/mean_diff";

// The synthetic run: N items (gold = i % 3), R rounds, three conditions (the third steered from the
// second), probes at layers 2 and 4 of position "answer".
struct Spec {
  int items = 12;
  int rounds = 4;
  bool steered_item_stops = true;  // the steered condition's last item stops after round R − 1
  std::function<double(int c, int i, int r, int layer)> cosine = [](int c, int i, int r, int layer) {
    const double offset[] = {0.0, 0.1, 0.4};
    return (layer / 4.0) * (0.05 * r + 0.02 * ((i * 7) % 5) + offset[c]) - 0.01 * (c == 0) * r * r;
  };
  std::function<bool(int c, int i, int r)> correct = [](int c, int i, int r) { return (i + r + c) % 3 != 0; };
  // probability of the chosen option
  std::function<double(int c, int i, int r)> top = [](int c, int i, int r) {
    return std::min(0.95, 0.4 + 0.1 * r + 0.03 * (i % 4) + 0.02 * c);
  };
  bool probability = true;  // probes carry P(+) at layer 4
  bool steer_config = true;
};

bool stored(const Spec& s, int c, int i, int r) {
  return !(s.steered_item_stops && c == 2 && i == s.items - 1 && r == s.rounds);
}

int gold(int i) { return i % 3; }
int answer(const Spec& s, int c, int i, int r) { return s.correct(c, i, r) ? gold(i) : (gold(i) + 1) % 3; }
std::vector<double> probs(const Spec& s, int c, int i, int r) {
  const double p = s.top(c, i, r);
  std::vector<double> v(3, (1 - p) / 2);
  v[answer(s, c, i, r)] = p;
  return v;
}
double norm_entropy(const std::vector<double>& p) {
  double h = 0;
  for (double x : p) h -= x > 0 ? x * std::log(x) : 0;
  return h / std::log(static_cast<double>(p.size()));
}
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

void write_store(const std::string& path, const Spec& s) {
  Store store = Store::open(path, OpenMode::CreateOrOpen);
  RunRecord run = test::sample_run("concept-run", s.rounds);
  run.conditions = kConditions;
  run.config = {{"run", {{"hidden", {{"layers", {2, 4}}, {"positions", {"answer"}}}}}}};
  if (s.steer_config)
    run.config["run"]["steer"] = {{{"name", "self-correct+steer"},
                            {"base", "self-correct"},
                            {"direction", "concepts/bias.gguf"},
                            {"direction_id", "bias-mean_diff-abc"},
                            {"method", "mean_diff"},
                            {"layers", {4}},
                            {"strength", 4.0},
                            {"positions", "turn"},
                            {"rounds", json::array()}}};
  store.create_run(run);
  std::vector<ItemRecord> items = test::sample_items(s.items);
  for (int i = 0; i < s.items; ++i) items[i].gold = gold(i);
  store.add_items(run.run_id, items);
  std::vector<RoundRecord> rounds;
  std::vector<ItemProbeRecord> probes;
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < s.items; ++i)
      for (int r = 1; r <= s.rounds; ++r) {
        if (!stored(s, c, i, r)) continue;
        RoundRecord row;
        row.condition = kConditions[c];
        row.item_id = items[i].item_id;
        row.round = r;
        row.answer_index = answer(s, c, i, r);
        row.parsed_answer = std::string(1, static_cast<char>('a' + row.answer_index));
        row.option_probs = probs(s, c, i, r);
        row.correct = s.correct(c, i, r);
        row.extra = json::object();
        rounds.push_back(row);
        for (int layer : {2, 4}) {
          ItemProbeRecord p;
          p.condition = kConditions[c];
          p.item_id = items[i].item_id;
          p.round = r;
          p.position = "answer";
          p.layer = layer;
          p.name = kName;
          p.cosine = s.cosine(c, i, r, layer);
          if (s.probability && layer == 4) p.probability = sigmoid(5 * p.cosine);
          probes.push_back(p);
        }
      }
  store.commit_rounds(run.run_id, rounds);
  store.put_item_probes(run.run_id, probes);
  store.put_probes(run.run_id, {{"", 0, 4, std::string(kName) + "/heldout_accuracy", 0.875},
                                {"", 0, 2, std::string(kName) + "/heldout_accuracy", {{"accuracy", 0.625}}}});
}

struct Fixture {
  test::ScratchDir dir;
  std::string path;
  explicit Fixture(const Spec& spec = {}) : path(dir.file("run.sqlite")) { write_store(path, spec); }
  ConceptSummary summary(int layer = 4, const ConceptSummaryOptions& o = {}) const {
    const Store store = Store::open(path, OpenMode::ReadOnly);
    return summarize_concept(store, "concept-run", kName, "answer", layer, o);
  }
};

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

double pearson_r(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean(x), my = mean(y);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<double> r(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double less = 0, equal = 0;
    for (double v : x) less += v < x[i], equal += v == x[i];
    r[i] = less + (equal + 1) / 2;
  }
  return r;
}

const ConditionConcept& condition(const ConceptSummary& s, const std::string& name) {
  for (const ConditionConcept& c : s.conditions)
    if (c.condition == name) return c;
  throw std::runtime_error("no condition " + name);
}

// Every number in the JSON is finite (nlohmann writes NaN and infinities as null, so look at the values).
void expect_all_finite(const json& j, const std::string& where = "") {
  if (j.is_number_float()) EXPECT_TRUE(std::isfinite(j.get<double>())) << where;
  if (j.is_structured())
    for (auto it = j.begin(); it != j.end(); ++it) expect_all_finite(*it, where + "/" + (j.is_object() ? it.key() : "#"));
}

TEST(ConceptSummary, PerRoundMeansDeltasAndProbabilities) {
  const Spec spec;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  ASSERT_EQ(s.conditions.size(), 3u);
  EXPECT_EQ(s.conditions[0].condition, "baseline");
  for (int c = 0; c < 3; ++c) {
    const ConditionConcept& cc = s.conditions[c];
    ASSERT_EQ(cc.rounds.size(), 4u);
    double previous = 0;
    for (int r = 1; r <= 4; ++r) {
      std::vector<double> cos, prob, unc;
      for (int i = 0; i < spec.items; ++i)
        if (stored(spec, c, i, r)) {
          cos.push_back(spec.cosine(c, i, r, 4));
          prob.push_back(sigmoid(5 * cos.back()));
          unc.push_back(norm_entropy(probs(spec, c, i, r)));
        }
      const RoundConcept& rc = cc.rounds[r - 1];
      EXPECT_EQ(rc.round, r);
      EXPECT_EQ(rc.n, cos.size());
      EXPECT_NEAR(rc.mean, mean(cos), 1e-12);
      ASSERT_TRUE(rc.mean_probability);
      EXPECT_NEAR(*rc.mean_probability, mean(prob), 1e-12);
      EXPECT_EQ(rc.n_probability, cos.size());
      ASSERT_TRUE(rc.mean_uncertainty);
      EXPECT_NEAR(*rc.mean_uncertainty, mean(unc), 1e-12);
      if (r == 1) {
        EXPECT_FALSE(rc.delta);
      } else {
        ASSERT_TRUE(rc.delta);
        EXPECT_NEAR(*rc.delta, mean(cos) - previous, 1e-12);
      }
      previous = mean(cos);
      ASSERT_TRUE(rc.ci) << rc.ci_unavailable;
      EXPECT_LE(rc.ci->lower, rc.mean);
      EXPECT_GE(rc.ci->upper, rc.mean);
      EXPECT_GE(rc.ci->lower, *std::min_element(cos.begin(), cos.end()));
      EXPECT_LE(rc.ci->upper, *std::max_element(cos.begin(), cos.end()));
      // a percentile interval of a mean is close to mean ± 1.96 · sd / √n
      double var = 0;
      for (double v : cos) var += (v - mean(cos)) * (v - mean(cos));
      const double se = std::sqrt(var / cos.size() / cos.size());
      EXPECT_NEAR(rc.ci->upper - rc.ci->lower, 2 * 1.96 * se, 0.35 * 2 * 1.96 * se);
    }
  }
  // layer 2 has no probabilities
  const ConceptSummary s2 = f.summary(2);
  EXPECT_FALSE(s2.conditions[0].rounds[0].mean_probability);
  std::vector<double> layer2;
  for (int i = 0; i < spec.items; ++i) layer2.push_back(spec.cosine(0, i, 1, 2));
  EXPECT_NEAR(s2.conditions[0].rounds[0].mean, mean(layer2), 1e-12);
}

TEST(ConceptSummary, IntervalsAreReproducibleAndSeeded) {
  const Fixture f;
  const ConceptSummary a = f.summary(), b = f.summary();
  ConceptSummaryOptions other;
  other.seed = 99;
  const ConceptSummary c = f.summary(4, other);
  bool differs = false;
  for (size_t k = 0; k < a.conditions.size(); ++k)
    for (size_t r = 0; r < a.conditions[k].rounds.size(); ++r) {
      EXPECT_EQ(a.conditions[k].rounds[r].ci->lower, b.conditions[k].rounds[r].ci->lower);
      EXPECT_EQ(a.conditions[k].rounds[r].ci->upper, b.conditions[k].rounds[r].ci->upper);
      differs = differs || a.conditions[k].rounds[r].ci->lower != c.conditions[k].rounds[r].ci->lower;
    }
  EXPECT_TRUE(differs);
  ConceptSummaryOptions off;
  off.bootstrap_resamples = 0;
  const ConceptSummary d = f.summary(4, off);
  EXPECT_FALSE(d.conditions[0].rounds[0].ci);
  EXPECT_NE(d.conditions[0].rounds[0].ci_unavailable, "");
}

TEST(ConceptSummary, TwoItemsGiveTheExtremesAsInterval) {
  // Resampling two items gives means a, (a+b)/2 and b with chances 1/4, 1/2, 1/4: the 2.5% and
  // 97.5% quantiles of 1000 resamples are a and b.
  Spec spec;
  spec.items = 2;
  spec.steered_item_stops = false;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  const RoundConcept& rc = s.conditions[1].rounds[0];
  const double a = spec.cosine(1, 0, 1, 4), b = spec.cosine(1, 1, 1, 4);
  ASSERT_TRUE(rc.ci);
  EXPECT_DOUBLE_EQ(rc.ci->lower, std::min(a, b));
  EXPECT_DOUBLE_EQ(rc.ci->upper, std::max(a, b));
}

TEST(ConceptSummary, CorrelationsAndOlsMatchHandComputations) {
  const Spec spec;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  for (int c = 0; c < 3; ++c) {
    const ConditionConcept& cc = s.conditions[c];
    std::vector<double> mc, mu, ic, iu;
    for (const RoundConcept& r : cc.rounds) mc.push_back(r.mean), mu.push_back(*r.mean_uncertainty);
    for (int r = 1; r <= spec.rounds; ++r)
      for (int i = 0; i < spec.items; ++i)
        if (stored(spec, c, i, r)) {
          ic.push_back(spec.cosine(c, i, r, 4));
          iu.push_back(norm_entropy(probs(spec, c, i, r)));
        }
    ASSERT_TRUE(cc.round_level.pearson) << cc.round_level.unavailable;
    EXPECT_EQ(cc.round_level.n, 4u);
    EXPECT_NEAR(cc.round_level.pearson->r, pearson_r(mc, mu), 1e-10);
    EXPECT_NEAR(cc.round_level.spearman->r, pearson_r(ranks(mc), ranks(mu)), 1e-10);
    ASSERT_TRUE(cc.item_level.pearson) << cc.item_level.unavailable;
    EXPECT_EQ(cc.item_level.n, ic.size());
    EXPECT_NEAR(cc.item_level.pearson->r, pearson_r(ic, iu), 1e-10);
    EXPECT_NEAR(cc.item_level.spearman->r, pearson_r(ranks(ic), ranks(iu)), 1e-10);
    // simple regression: slope = cov / var, R² = r², F = t² of the slope
    ASSERT_TRUE(cc.ols.fit) << cc.ols.unavailable;
    const double mx = mean(ic), my = mean(iu);
    double sxy = 0, sxx = 0;
    for (size_t k = 0; k < ic.size(); ++k) sxy += (ic[k] - mx) * (iu[k] - my), sxx += (ic[k] - mx) * (ic[k] - mx);
    EXPECT_NEAR(cc.ols.fit->coef[0], sxy / sxx, 1e-9);
    EXPECT_NEAR(cc.ols.fit->intercept, my - sxy / sxx * mx, 1e-9);
    EXPECT_NEAR(cc.ols.fit->r2, std::pow(pearson_r(ic, iu), 2), 1e-9);
    EXPECT_NEAR(cc.ols.fit->f_stat, std::pow(cc.ols.fit->t_values[1], 2), 1e-6 * cc.ols.fit->f_stat);
    EXPECT_EQ(cc.ols.fit->n, static_cast<int64_t>(ic.size()));
  }
}

TEST(ConceptSummary, LogisticRegressionIsStandardisedAndBeatsTheInterceptOnlyModel) {
  const Spec spec;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  const ConditionConcept& cc = s.conditions[0];
  ASSERT_TRUE(cc.logistic.fit) << cc.logistic.unavailable;
  size_t n = 0, k = 0;
  for (int r = 1; r <= spec.rounds; ++r)
    for (int i = 0; i < spec.items; ++i) n += 1, k += spec.correct(0, i, r);
  EXPECT_EQ(cc.logistic.n, n);
  EXPECT_EQ(cc.logistic.n_correct, k);
  const double p = static_cast<double>(k) / n;
  EXPECT_GE(cc.logistic.fit->log_likelihood, k * std::log(p) + (n - k) * std::log(1 - p) - 1e-9);
  ASSERT_EQ(cc.logistic.fit->column_std.size(), 2u);  // standardised columns
  EXPECT_EQ(cc.logistic.fit->coef.size(), 2u);
  const json j = to_json(s);
  EXPECT_TRUE(j["conditions"][0]["logistic"]["coef"].contains("concept"));
}

TEST(ConceptSummary, LayerProfileAndHeldOutAccuracy) {
  const Spec spec;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].layer, 2);
  EXPECT_EQ(s.layers[1].layer, 4);
  EXPECT_EQ(s.layers[0].heldout_accuracy, 0.625);  // stored as {"accuracy": ...}
  EXPECT_EQ(s.layers[1].heldout_accuracy, 0.875);  // stored as a number
  for (const LayerProfile& l : s.layers)
    for (int c = 0; c < 3; ++c) {
      std::vector<double> first, last;
      for (int i = 0; i < spec.items; ++i) {
        first.push_back(spec.cosine(c, i, 1, l.layer));
        if (stored(spec, c, i, spec.rounds)) last.push_back(spec.cosine(c, i, spec.rounds, l.layer));
      }
      ASSERT_TRUE(l.conditions[c].shift);
      EXPECT_EQ(l.conditions[c].condition, kConditions[c]);
      EXPECT_NEAR(*l.conditions[c].shift, mean(last) - mean(first), 1e-12);
      EXPECT_EQ(l.conditions[c].first_round, 1);
      EXPECT_EQ(l.conditions[c].last_round, spec.rounds);
    }
}

TEST(ConceptSummary, SteeringEffectOverTheItemsBothConditionsHave) {
  const Spec spec;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  ASSERT_EQ(s.steering.size(), 1u);
  const SteeringEffect& e = s.steering[0];
  EXPECT_EQ(e.condition, "self-correct+steer");
  EXPECT_EQ(e.base, "self-correct");
  EXPECT_EQ(e.spec["strength"], 4.0);
  EXPECT_EQ(e.unavailable, "");
  ASSERT_EQ(e.rounds.size(), 4u);
  for (int r = 1; r <= spec.rounds; ++r) {
    std::vector<double> acc_b, acc_s, ent_b, ent_s, cos_b, cos_s;
    for (int i = 0; i < spec.items; ++i) {
      if (!stored(spec, 2, i, r)) continue;
      acc_b.push_back(spec.correct(1, i, r));
      acc_s.push_back(spec.correct(2, i, r));
      ent_b.push_back(norm_entropy(probs(spec, 1, i, r)));
      ent_s.push_back(norm_entropy(probs(spec, 2, i, r)));
      cos_b.push_back(spec.cosine(1, i, r, 4));
      cos_s.push_back(spec.cosine(2, i, r, 4));
    }
    const SteeringRound& sr = e.rounds[r - 1];
    EXPECT_EQ(sr.round, r);
    EXPECT_EQ(sr.n, acc_b.size());
    EXPECT_EQ(sr.n, r == spec.rounds ? size_t(spec.items - 1) : size_t(spec.items));
    EXPECT_EQ(sr.n_concept, sr.n);
    EXPECT_NEAR(*sr.accuracy_base, mean(acc_b), 1e-12);
    EXPECT_NEAR(*sr.accuracy_diff, mean(acc_s) - mean(acc_b), 1e-12);
    EXPECT_NEAR(*sr.entropy_diff, mean(ent_s) - mean(ent_b), 1e-12);
    EXPECT_NEAR(*sr.concept_diff, mean(cos_s) - mean(cos_b), 1e-12);
    EXPECT_NEAR(*sr.concept_diff, 0.3, 1e-12);  // the steered offset
  }
}

TEST(ConceptSummary, ProbeRecordsStoreEveryStatistic) {
  const Fixture f;
  const ConceptSummary s = f.summary();
  const std::vector<ProbeRecord> rows = probe_records(s);
  const std::string base = "bias/mean_diff@answer";
  auto find = [&](const std::string& condition, int round, int layer, const std::string& name) -> const ProbeRecord* {
    for (const ProbeRecord& p : rows)
      if (p.condition == condition && p.round == round && p.layer == layer && p.name == name) return &p;
    return nullptr;
  };
  const ProbeRecord* r2 = find("self-correct", 2, 4, base);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->value["mean"].get<double>(), s.conditions[1].rounds[1].mean);
  EXPECT_EQ(r2->value["lower"].get<double>(), s.conditions[1].rounds[1].ci->lower);
  EXPECT_EQ(r2->value["delta"].get<double>(), *s.conditions[1].rounds[1].delta);
  EXPECT_EQ(r2->value["n"], 12);
  for (const char* suffix : {"/round_correlation", "/item_correlation", "/ols", "/logistic"})
    EXPECT_TRUE(find("baseline", 0, 4, base + suffix)) << suffix;
  EXPECT_EQ(find("baseline", 0, 4, base + "/round_correlation")->value["pearson"]["r"].get<double>(),
            s.conditions[0].round_level.pearson->r);
  ASSERT_TRUE(find("baseline", 0, 2, base + "/shift"));
  EXPECT_EQ(find("baseline", 0, 2, base + "/shift")->value["shift"].get<double>(), *s.layers[0].conditions[0].shift);
  const ProbeRecord* steer = find("self-correct+steer", 3, 4, base + "/steering");
  ASSERT_TRUE(steer);
  EXPECT_EQ(steer->value["base"], "self-correct");
  EXPECT_EQ(steer->value["concept_diff"].get<double>(), *s.steering[0].rounds[2].concept_diff);
  // keys are unique, values finite, and the rows store (twice: idempotent) and read back
  std::set<std::tuple<std::string, int, int, std::string>> keys;
  for (const ProbeRecord& p : rows) {
    EXPECT_TRUE(keys.insert({p.condition, p.round, p.layer, p.name}).second) << p.name;
    expect_all_finite(p.value, p.name);
  }
  {
    Store store = Store::open(f.path, OpenMode::CreateOrOpen);
    store.put_probes("concept-run", rows);
    store.put_probes("concept-run", probe_records(f.summary()));
  }
  const Store store = Store::open(f.path, OpenMode::ReadOnly);
  size_t back = 0;
  for (const ProbeRecord& p : store.probes("concept-run"))
    if (p.name.rfind(base, 0) == 0) {
      ++back;
      const ProbeRecord* mine = find(p.condition, p.round, p.layer, p.name);
      ASSERT_TRUE(mine) << p.name;
      EXPECT_EQ(p.value, mine->value) << p.name;
    }
  EXPECT_EQ(back, rows.size());
}

TEST(ConceptSummary, JsonAndTextCarryTheNumbers) {
  const Fixture f;
  const ConceptSummary s = f.summary();
  const json j = to_json(s);
  expect_all_finite(j);
  EXPECT_EQ(j["name"], kName);
  EXPECT_EQ(j["layer"], 4);
  EXPECT_EQ(j["conditions"][1]["rounds"][0]["mean"].get<double>(), s.conditions[1].rounds[0].mean);
  EXPECT_EQ(j["layers"][1]["heldout_accuracy"], 0.875);
  EXPECT_EQ(j["steering"][0]["rounds"][0]["concept_diff"].get<double>(), *s.steering[0].rounds[0].concept_diff);
  const std::string text = to_text(s);
  EXPECT_NE(text.find("condition self-correct:"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("round 1: concept {:.4f}", s.conditions[0].rounds[0].mean)), std::string::npos) << text;
  EXPECT_NE(text.find("steering self-correct+steer vs self-correct"), std::string::npos) << text;
  EXPECT_NE(text.find("held-out accuracy 0.875"), std::string::npos) << text;
}

TEST(ConceptSummary, DegenerateDataIsUnavailableNeverNaN) {
  // one item, two rounds, a constant concept score, every answer right
  Spec spec;
  spec.items = 1;
  spec.rounds = 2;
  spec.steered_item_stops = false;
  spec.cosine = [](int, int, int, int) { return 0.25; };
  spec.correct = [](int, int, int) { return true; };
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  for (const ConditionConcept& c : s.conditions) {
    EXPECT_FALSE(c.rounds[0].ci);
    EXPECT_EQ(c.rounds[0].ci_unavailable, "one item: no interval");
    EXPECT_EQ(*c.rounds[1].delta, 0.0);
    EXPECT_FALSE(c.round_level.pearson);
    EXPECT_EQ(c.round_level.unavailable, "needs at least 3 rounds with option probabilities, has 2");
    EXPECT_FALSE(c.item_level.pearson);
    EXPECT_NE(c.item_level.unavailable, "");
    EXPECT_FALSE(c.ols.fit);
    EXPECT_NE(c.ols.unavailable, "");
    EXPECT_FALSE(c.logistic.fit);
    EXPECT_NE(c.logistic.unavailable, "");
  }
  const json j = to_json(s);
  expect_all_finite(j);
  EXPECT_EQ(j["conditions"][0]["round_correlation"]["unavailable"],
            "needs at least 3 rounds with option probabilities, has 2");
  EXPECT_NE(to_text(s).find("unavailable: needs at least 3 rounds"), std::string::npos);
  for (const ProbeRecord& p : probe_records(s)) expect_all_finite(p.value, p.name);
}

TEST(ConceptSummary, ConstantScoresAndOneClassAreNamed) {
  Spec spec;
  spec.cosine = [](int, int, int, int) { return -0.5; };
  spec.correct = [](int, int, int) { return false; };
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  const ConditionConcept& c = s.conditions[0];
  EXPECT_EQ(c.round_level.unavailable, "the concept score is constant over the rounds");
  EXPECT_EQ(c.item_level.unavailable, "the concept score is constant over the (item, round) pairs");
  EXPECT_EQ(c.ols.unavailable, "the concept score is constant: no slope");
  EXPECT_EQ(c.logistic.unavailable, "one class: all 48 answers are wrong");
  for (const LayerProfile& l : s.layers)
    for (const LayerShift& shift : l.conditions) EXPECT_EQ(*shift.shift, 0.0);
}

TEST(ConceptSummary, PerfectSeparationIsReportedInsteadOfCoefficients) {
  Spec spec;
  // right exactly when the concept score is high
  spec.cosine = [](int c, int i, int r, int layer) { return layer * (0.01 * i + 0.001 * r + 0.1 * c); };
  spec.correct = [](int, int i, int) { return i >= 6; };
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  const LogisticResult& l = s.conditions[0].logistic;
  EXPECT_FALSE(l.fit);
  EXPECT_NE(l.unavailable.find("separated"), std::string::npos) << l.unavailable;
}

TEST(ConceptSummary, OneRoundShiftAndMissingConditionsAreUnavailable) {
  Spec spec;
  spec.rounds = 1;
  spec.steered_item_stops = false;
  const Fixture f(spec);
  const ConceptSummary s = f.summary();
  EXPECT_FALSE(s.layers[0].conditions[0].shift);
  EXPECT_EQ(s.layers[0].conditions[0].unavailable, "only round 1 is probed");
}

TEST(ConceptSummary, KeysAndErrors) {
  Spec spec;
  spec.steer_config = false;
  const Fixture f(spec);
  const Store store = Store::open(f.path, OpenMode::ReadOnly);
  const std::vector<ConceptKey> keys = concept_keys(store.item_probes("concept-run"));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].name, kName);
  EXPECT_EQ(keys[0].position, "answer");
  EXPECT_EQ(keys[0].layers, (std::vector<int>{2, 4}));
  EXPECT_TRUE(f.summary().steering.empty());
  EXPECT_NE(test::error_of([&] { summarize_concept(store, "concept-run", kName, "answer", 3); })
                .find("no item probes named 'bias/mean_diff' at position 'answer', layer 3"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { summarize_concept(store, "nope", kName, "answer", 4); }).find("run 'nope'"),
            std::string::npos);
  ConceptInputs in = read_concept_inputs(store, "concept-run");
  in.run.config["run"]["steer"] = {{{"base", "self-correct"}}};
  EXPECT_NE(test::error_of([&] { summarize_concept(in, kName, "answer", 4); }).find("steer[0]: 'name'"),
            std::string::npos);
  in.run.config["run"]["steer"] = {{{"name", "self-correct+steer"}, {"base", "missing"}}};
  const ConceptSummary s = summarize_concept(in, kName, "answer", 4);
  EXPECT_EQ(s.steering[0].unavailable, "base condition 'missing' has no stored rounds");
  in.rounds[3].option_probs = {0.5, 0.6, 0.1};
  EXPECT_NE(test::error_of([&] { summarize_concept(in, kName, "answer", 4); }).find("option probabilities"),
            std::string::npos);
}

}  // namespace
}  // namespace isc::concepts
