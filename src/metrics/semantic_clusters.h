// Clustering of sampled generations into meaning classes ("semantic equivalence classes"), as in
// Kuhn, Gal & Farquhar, "Semantic Uncertainty" (ICLR 2023, Algorithm 1), plus the exact-match
// normalisation used when the equivalence is textual rather than judged by an NLI model.
//
// The algorithm, and its order dependence: samples are visited in index order 0..N-1. Sample m is
// compared with ONE representative of each existing cluster — the cluster's first member — in
// cluster order, and joins the first cluster c where the representative r and m are equivalent
// (for the entailment form: r entails m AND m entails r). If none is, m starts a new cluster with
// itself as representative. Cluster ids are 0..C-1 in order of first appearance.
//   - With a transitive equivalence (e.g. exact match) the result is the partition into
//     equivalence classes, whatever the order.
//   - With a non-transitive oracle (typical of NLI models: a ~ b, b ~ c, but not a ~ c) the result
//     depends on the order: {a, b, c} gives {a, b}, {c}, while the order b, a, c gives {b, a, c}
//     when b ~ c. Members of a cluster are only guaranteed to be equivalent to its representative.
//   - The oracle is never asked about a sample and itself, nor about two non-representatives.
// Other codes differ: jlko/semantic_uncertainty (Farquhar et al. 2024) makes the first
// unassigned sample the anchor, compares it with ALL later samples and lets a later anchor take
// over already-assigned ones; Kuhn's released code and the reference study's code treat "neither
// direction is a contradiction" as equivalent. The oracle here is whatever the caller passes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace isc::metrics {

// `entails(a, b)` answers "does sample a entail sample b?". For each candidate (representative r,
// new sample m) it is called as entails(r, m) and, only if that holds, entails(m, r). At most
// N(N-1) calls; exceptions thrown by the oracle propagate. n == 0 gives an empty result.
std::vector<int> cluster_by_entailment(std::size_t n, const std::function<bool(std::size_t a, std::size_t b)>& entails);

// The same algorithm from an already symmetric decision: `equivalent(r, m)` is called once per
// (representative, new sample) pair, r < m. Use this when the judge decides equivalence itself.
std::vector<int> cluster_by_equivalence(std::size_t n,
                                        const std::function<bool(std::size_t a, std::size_t b)>& equivalent);

// Batching. Which pairs the algorithm needs depends on earlier answers, so a caller that wants one
// batched judge call computes every directed pair up front — N(N-1) of them, 20 for the usual
// N = 5, 380 for N = 20 — and clusters from the matrix. all_entailment_pairs lists them (a != b,
// row-major order); cluster_by_entailment_matrix reads entails[a * n + b] != 0 as "a entails b"
// (the diagonal is never read) and gives exactly what cluster_by_entailment gives with the same
// answers. Throws isc::Error unless entails.size() == n * n.
std::vector<std::pair<std::size_t, std::size_t>> all_entailment_pairs(std::size_t n);
std::vector<int> cluster_by_entailment_matrix(std::size_t n, std::span<const std::uint8_t> entails);

// The normalisation behind exact-match equivalence. Steps, repeated until nothing changes:
//   1. strip leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r);
//   2. strip trailing punctuation, any of . , ; : ! ?
//   3. strip ONE pair of surrounding quotes when the text starts and ends with a matching pair:
//      "…", '…', `…`, or the UTF-8 curly pairs “…” and ‘…’ (an unmatched quote stays);
// then runs of ASCII whitespace inside become one space and ASCII A-Z become a-z. Other bytes
// (accents, other scripts) are kept unchanged. Examples: "  \"Paris.\" " -> "paris";
// "It's  PARIS!" -> "it's paris"; "'Rome'." -> "rome"; "..." -> "".
std::string exact_match_key(std::string_view text);

// Exact-match clustering: two texts are equivalent iff their exact_match_key values are equal
// (transitive, so the order does not matter beyond the numbering of clusters).
std::vector<int> cluster_by_exact_match(std::span<const std::string> texts);

}  // namespace isc::metrics
