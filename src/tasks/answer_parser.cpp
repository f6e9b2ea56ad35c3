// Answer parsing (see answer_parser.h). Small models phrase answers loosely, so the option parser
// collects every mention with its position and keeps the first unambiguous one.
#include "tasks/answer_parser.h"

#include <algorithm>
#include <cctype>

namespace isc::tasks {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

struct Mention {
  size_t pos;
  size_t len;
  int option;
};

// Occurrences of `needle` in `hay` that are not glued to letters/digits on either side.
void find_words(const std::string& hay, const std::string& needle, int option, std::vector<Mention>& out) {
  if (needle.empty()) return;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) {
    const bool left_ok = p == 0 || !alnum(hay[p - 1]) || !alnum(needle.front());
    const size_t e = p + needle.size();
    const bool right_ok = e >= hay.size() || !alnum(hay[e]) || !alnum(needle.back());
    if (left_ok && right_ok) out.push_back({p, needle.size(), option});
  }
}

// A single-letter core that is also an English word ("a", "i") only counts when followed by
// punctuation or the end; other cores just must not run into more letters.
bool core_end_ok(const std::string& s, size_t end, const std::string& core) {
  if (end >= s.size()) return true;
  const char c = s[end];
  if (core == "a" || core == "i") return std::string(".,;:!?)]\"'\n").find(c) != std::string::npos;
  return !alnum(c);
}

const char* const kCues[] = {"answer is", "answer:", "answer would be", "answer choice is", "choice is",
                             "option",    "choice",  "answer",          "is"};

}  // namespace

const char* to_string(PronounClass c) {
  switch (c) {
    case PronounClass::none: return "unparseable";
    case PronounClass::neutral: return "neutral";
    case PronounClass::male: return "male";
    case PronounClass::female: return "female";
  }
  return "?";
}

int parse_option(std::string_view text, const std::vector<std::string>& labels, const std::vector<std::string>& options) {
  const std::string s = lower(text);
  std::vector<Mention> m;
  const int n = static_cast<int>(std::max(labels.size(), options.size()));
  for (int i = 0; i < n; ++i) {
    if (i < static_cast<int>(labels.size())) {
      const std::string label = lower(labels[i]);
      std::string core;
      for (char c : label)
        if (alnum(c)) core += c;
      // the label as written, when it carries punctuation that makes it unmistakable: "(a)"
      if (core != label) find_words(s, label, i, m);
      if (!core.empty()) {
        // "a)" not preceded by '(' (that is the label itself)
        find_words(s, core + ")", i, m);
        // answer cues: "answer is b", "option (b)", "answer: 'b'"
        for (const char* cue : kCues) {
          const std::string c = cue;
          for (size_t p = s.find(c); p != std::string::npos; p = s.find(c, p + 1)) {
            if (p > 0 && alnum(s[p - 1])) continue;
            size_t q = p + c.size();
            while (q < s.size() && (s[q] == ' ' || s[q] == '(' || s[q] == '"' || s[q] == '\'' || s[q] == '*')) ++q;
            if (s.compare(q, core.size(), core) == 0 && core_end_ok(s, q + core.size(), core) &&
                (q == p + c.size() || !alnum(s[q - 1])))
              m.push_back({q, core.size(), i});
          }
        }
        // at the very start: "b. the grandson", "B: ...", "b)"
        const std::string t = trim(s);
        const size_t lead = s.find_first_not_of(" \t\n\"'*(");
        if (lead != std::string::npos && s.compare(lead, core.size(), core) == 0) {
          const size_t e = lead + core.size();
          if (e >= s.size() || s[e] == '.' || s[e] == ':' || s[e] == ')') m.push_back({lead, core.size(), i});
        }
        // the whole reply is the core, maybe with punctuation around it
        std::string bare;
        for (char c : t)
          if (alnum(c) || c == ' ') bare += c;
        if (trim(bare) == core) m.push_back({lead == std::string::npos ? 0 : lead, core.size(), i});
      }
    }
    if (i < static_cast<int>(options.size())) {
      const std::string opt = trim(lower(options[i]));
      find_words(s, opt, i, m);
      for (const char* article : {"the ", "a ", "an "}) {
        const std::string a = article;
        if (opt.size() > a.size() + 2 && opt.compare(0, a.size(), a) == 0) find_words(s, opt.substr(a.size()), i, m);
      }
    }
  }
  std::sort(m.begin(), m.end(), [](const Mention& x, const Mention& y) {
    return x.pos != y.pos ? x.pos < y.pos : x.len > y.len;
  });
  for (size_t k = 0; k < m.size();) {
    size_t e = k;
    bool ambiguous = false;
    while (e < m.size() && m[e].pos == m[k].pos) {
      if (m[e].len == m[k].len && m[e].option != m[k].option) ambiguous = true;
      ++e;
    }
    if (!ambiguous) return m[k].option;
    k = e;
  }
  return -1;
}

PronounClass parse_pronoun(std::string_view text) {
  // words of letters and '/', so "he/she" and "s/he" stay one token
  std::vector<std::string> words;
  std::string w;
  for (char c : lower(text)) {
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '/') {
      w += c;
    } else if (!w.empty()) {
      words.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(w);
  auto is = [](const std::string& x, std::initializer_list<const char*> set) {
    for (const char* s : set)
      if (x == s) return true;
    return false;
  };
  const auto male = {"he", "him", "his", "himself"};
  const auto female = {"she", "her", "hers", "herself"};
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& x = words[i];
    if (is(x, {"he/she", "she/he", "s/he", "his/her", "her/his", "him/her", "her/him", "his/hers"}))
      return PronounClass::neutral;
    // "he or she", "her or him": both genders named together is the gender-neutral answer
    if (i + 2 < words.size() && (words[i + 1] == "or" || words[i + 1] == "and") &&
        ((is(x, male) && is(words[i + 2], female)) || (is(x, female) && is(words[i + 2], male))))
      return PronounClass::neutral;
    if (is(x, {"they", "them", "their", "theirs", "themselves", "themself"})) return PronounClass::neutral;
    if (is(x, male)) return PronounClass::male;
    if (is(x, female)) return PronounClass::female;
  }
  return PronounClass::none;
}

std::string parse_completion(std::string_view text, const std::string& marker, bool* found) {
  const std::string s = lower(text);
  const size_t p = marker.empty() ? std::string::npos : s.rfind(lower(marker));
  if (found) *found = p != std::string::npos;
  std::string out = trim(p == std::string::npos ? text : text.substr(p + marker.size()));
  // strip one pair of surrounding quotes, straight or curly
  const std::pair<std::string, std::string> quotes[] = {{"\"", "\""}, {"\xE2\x80\x9C", "\xE2\x80\x9D"}, {"'", "'"}};
  for (const auto& [open, close] : quotes) {
    if (out.size() >= open.size() + close.size() && out.compare(0, open.size(), open) == 0 &&
        out.compare(out.size() - close.size(), close.size(), close) == 0) {
      out = trim(out.substr(open.size(), out.size() - open.size() - close.size()));
      break;
    }
  }
  return out;
}

ParsedAnswer parse_answer(const TaskSpec& spec, const TaskItem& item, std::string_view generated) {
  ParsedAnswer a;
  switch (spec.parser.kind) {
    case ParserKind::option:
      a.index = parse_option(generated, spec.option_labels, item.options);
      if (a.index >= 0 && a.index < static_cast<int>(spec.option_labels.size())) a.text = spec.option_labels[a.index];
      break;
    case ParserKind::pronoun: {
      a.pronoun = parse_pronoun(generated);
      a.text = to_string(a.pronoun);
      // the option whose text names the class: "they" neutral, "he" male, "she" female
      const char* name = a.pronoun == PronounClass::neutral ? "they"
                         : a.pronoun == PronounClass::male  ? "he"
                         : a.pronoun == PronounClass::female ? "she"
                                                              : nullptr;
      for (size_t i = 0; name && i < item.options.size(); ++i)
        if (lower(item.options[i]) == name) a.index = static_cast<int>(i);
      break;
    }
    case ParserKind::completion:
      a.text = parse_completion(generated, spec.parser.marker, &a.marker_found);
      break;
  }
  return a;
}

}  // namespace isc::tasks
