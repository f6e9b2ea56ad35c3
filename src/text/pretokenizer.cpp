// The regex engine (parser -> instruction program -> backtracking VM with an explicit stack, so
// long words never recurse deeply) and the pre-tokenizer / normalizer steps built on it.
#include "text/pretokenizer.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <deque>
#include <limits>

#include "common/error.h"
#include "text/unicode.h"
#include "text/utf8.h"

namespace isc {

// ---------------------------------------------------------------- character classes

namespace {

constexpr uint32_t cat_bit(UCat c) { return 1u << static_cast<int>(c); }
constexpr uint32_t kLetterMask = cat_bit(UCat::Lu) | cat_bit(UCat::Ll) | cat_bit(UCat::Lt) | cat_bit(UCat::Lm) | cat_bit(UCat::Lo);
constexpr uint32_t kMarkMask = cat_bit(UCat::Mn) | cat_bit(UCat::Mc) | cat_bit(UCat::Me);
constexpr uint32_t kNumberMask = cat_bit(UCat::Nd) | cat_bit(UCat::Nl) | cat_bit(UCat::No);
constexpr uint32_t kPunctMask = cat_bit(UCat::Pc) | cat_bit(UCat::Pd) | cat_bit(UCat::Ps) | cat_bit(UCat::Pe) |
                                cat_bit(UCat::Pi) | cat_bit(UCat::Pf) | cat_bit(UCat::Po);
constexpr uint32_t kSymbolMask = cat_bit(UCat::Sm) | cat_bit(UCat::Sc) | cat_bit(UCat::Sk) | cat_bit(UCat::So);
constexpr uint32_t kSeparatorMask = cat_bit(UCat::Zs) | cat_bit(UCat::Zl) | cat_bit(UCat::Zp);
constexpr uint32_t kOtherMask = cat_bit(UCat::Cc) | cat_bit(UCat::Cf) | cat_bit(UCat::Cs) | cat_bit(UCat::Co) | cat_bit(UCat::Cn);
// \w in Oniguruma's Unicode mode (what HF tokenizers uses): letters, marks, decimal digits, connectors.
constexpr uint32_t kWordMask = kLetterMask | kMarkMask | cat_bit(UCat::Nd) | cat_bit(UCat::Pc);

bool in_cats(char32_t cp, uint32_t mask) { return (mask & cat_bit(unicode_category(cp))) != 0; }
bool is_word_char(char32_t cp) { return in_cats(cp, kWordMask); }

// One member of a class: a code-point range, a category set, or White_Space; each may be negated.
struct ClassItem {
  enum class Kind { Range, Cats, White } kind;
  bool negated = false;
  char32_t lo = 0, hi = 0;
  uint32_t mask = 0;

  bool matches(char32_t cp) const {
    bool r;
    switch (kind) {
      case Kind::Range: r = cp >= lo && cp <= hi; break;
      case Kind::Cats: r = in_cats(cp, mask); break;
      default: r = unicode_is_white_space(cp); break;
    }
    return r != negated;
  }
};

struct CharClass {
  std::vector<ClassItem> items;
  bool negated = false;
  bool icase = false;
  std::bitset<256> latin1;  // precomputed answers for the common case

  bool raw_contains(char32_t cp) const {
    for (const auto& it : items)
      if (it.matches(cp)) return true;
    return false;
  }
  bool compute(char32_t cp) const {
    bool r = raw_contains(cp);
    if (!r && icase) r = raw_contains(unicode_to_lower(cp)) || raw_contains(unicode_to_upper(cp));
    return r != negated;
  }
  void finish() {
    for (char32_t c = 0; c < 256; ++c) latin1[c] = compute(c);
  }
  bool contains(char32_t cp) const { return cp < 256 ? latin1[cp] : compute(cp); }
};

// A category name as used in \p{..}; 0 when unknown.
uint32_t category_mask(std::u32string_view name) {
  static const std::pair<const char*, uint32_t> kNames[] = {
      {"L", kLetterMask}, {"Letter", kLetterMask}, {"M", kMarkMask}, {"Mark", kMarkMask},
      {"N", kNumberMask}, {"Number", kNumberMask}, {"P", kPunctMask}, {"Punctuation", kPunctMask},
      {"S", kSymbolMask}, {"Symbol", kSymbolMask}, {"Z", kSeparatorMask}, {"Separator", kSeparatorMask},
      {"C", kOtherMask}, {"Other", kOtherMask},
      {"Lu", cat_bit(UCat::Lu)}, {"Ll", cat_bit(UCat::Ll)}, {"Lt", cat_bit(UCat::Lt)}, {"Lm", cat_bit(UCat::Lm)},
      {"Lo", cat_bit(UCat::Lo)}, {"Mn", cat_bit(UCat::Mn)}, {"Mc", cat_bit(UCat::Mc)}, {"Me", cat_bit(UCat::Me)},
      {"Nd", cat_bit(UCat::Nd)}, {"Nl", cat_bit(UCat::Nl)}, {"No", cat_bit(UCat::No)}, {"Pc", cat_bit(UCat::Pc)},
      {"Pd", cat_bit(UCat::Pd)}, {"Ps", cat_bit(UCat::Ps)}, {"Pe", cat_bit(UCat::Pe)}, {"Pi", cat_bit(UCat::Pi)},
      {"Pf", cat_bit(UCat::Pf)}, {"Po", cat_bit(UCat::Po)}, {"Sm", cat_bit(UCat::Sm)}, {"Sc", cat_bit(UCat::Sc)},
      {"Sk", cat_bit(UCat::Sk)}, {"So", cat_bit(UCat::So)}, {"Zs", cat_bit(UCat::Zs)}, {"Zl", cat_bit(UCat::Zl)},
      {"Zp", cat_bit(UCat::Zp)}, {"Cc", cat_bit(UCat::Cc)}, {"Cf", cat_bit(UCat::Cf)}, {"Cs", cat_bit(UCat::Cs)},
      {"Co", cat_bit(UCat::Co)}, {"Cn", cat_bit(UCat::Cn)},
      {"Lowercase_Letter", cat_bit(UCat::Ll)}, {"Uppercase_Letter", cat_bit(UCat::Lu)},
      {"Decimal_Number", cat_bit(UCat::Nd)},
  };
  for (const auto& [n, m] : kNames) {
    std::string_view sv(n);
    if (sv.size() == name.size() && std::equal(sv.begin(), sv.end(), name.begin())) return m;
  }
  return 0;
}

// ---------------------------------------------------------------- syntax tree

struct Node {
  enum class Kind { Empty, Char, Class, Any, Concat, Alt, Repeat, LineStart, LineEnd, TextStart, TextEnd,
                    WordBoundary, NotWordBoundary, Look, Atomic };
  Kind kind = Kind::Empty;
  std::vector<std::unique_ptr<Node>> kids;
  char32_t cp = 0;
  bool icase = false;
  int cls = -1;
  int min = 0, max = 0;  // Repeat; max -1 = unbounded
  bool greedy = true, possessive = false;
  bool negated = false;  // Look: negative lookahead
};
using NodePtr = std::unique_ptr<Node>;

NodePtr make(Node::Kind k) {
  auto n = std::make_unique<Node>();
  n->kind = k;
  return n;
}

bool nullable(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Char: case Node::Kind::Class: case Node::Kind::Any: return false;
    case Node::Kind::Concat:
      for (const auto& k : n.kids)
        if (!nullable(*k)) return false;
      return true;
    case Node::Kind::Alt:
      for (const auto& k : n.kids)
        if (nullable(*k)) return true;
      return false;
    case Node::Kind::Repeat: return n.min == 0 || nullable(*n.kids[0]);
    case Node::Kind::Atomic: return nullable(*n.kids[0]);
    default: return true;
  }
}

constexpr int kMaxNesting = 200;
constexpr int kMaxRepeat = 1000;
constexpr size_t kMaxProgram = 200000;

class Parser {
 public:
  Parser(std::string_view pattern, std::vector<CharClass>& classes) : pattern_(pattern), classes_(classes) {
    std::vector<uint32_t> offsets;
    cps_ = utf8::decode_all(pattern, &offsets);
    for (char32_t c : cps_)
      if (utf8::is_invalid_byte_marker(c)) fail("pattern is not valid UTF-8");
  }

  NodePtr parse() {
    bool icase = false;
    auto n = parse_alt(icase, 0);
    if (i_ < cps_.size()) fail(cps_[i_] == ')' ? "unbalanced ')'" : "unexpected character");
    return n;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("regex '" + std::string(pattern_) + "': position " + std::to_string(i_) + ": " + what);
  }

 private:
  bool at_end() const { return i_ >= cps_.size(); }
  char32_t peek(size_t k = 0) const { return i_ + k < cps_.size() ? cps_[i_ + k] : 0; }
  bool eat(char32_t c) {
    if (!at_end() && cps_[i_] == c) { ++i_; return true; }
    return false;
  }

  NodePtr parse_alt(bool& icase, int depth) {
    if (depth > kMaxNesting) fail("groups nested too deeply");
    std::vector<NodePtr> alts;
    alts.push_back(parse_concat(icase, depth));
    while (eat('|')) alts.push_back(parse_concat(icase, depth));
    if (alts.size() == 1) return std::move(alts[0]);
    auto n = make(Node::Kind::Alt);
    n->kids = std::move(alts);
    return n;
  }

  NodePtr parse_concat(bool& icase, int depth) {
    auto n = make(Node::Kind::Concat);
    while (!at_end() && peek() != '|' && peek() != ')') {
      auto atom = parse_atom(icase, depth);
      if (!atom) continue;  // an inline flag group like (?i)
      n->kids.push_back(parse_quantifier(std::move(atom)));
    }
    return n;
  }

  int parse_int() {
    if (at_end() || peek() < '0' || peek() > '9') fail("expected a number in {n,m}");
    long v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > kMaxRepeat) fail("repetition count above " + std::to_string(kMaxRepeat));
      ++i_;
    }
    return static_cast<int>(v);
  }

  NodePtr parse_quantifier(NodePtr atom) {
    while (!at_end()) {
      int mn, mx;
      char32_t c = peek();
      if (c == '*') { mn = 0; mx = -1; ++i_; }
      else if (c == '+') { mn = 1; mx = -1; ++i_; }
      else if (c == '?') { mn = 0; mx = 1; ++i_; }
      else if (c == '{' && peek(1) >= '0' && peek(1) <= '9') {
        ++i_;
        mn = parse_int();
        mx = mn;
        if (eat(',')) mx = (peek() == '}') ? -1 : parse_int();
        if (!eat('}')) fail("expected '}' closing a repetition");
        if (mx != -1 && mx < mn) fail("repetition {n,m} with m < n");
      } else {
        break;
      }
      switch (atom->kind) {
        case Node::Kind::LineStart: case Node::Kind::LineEnd: case Node::Kind::TextStart: case Node::Kind::TextEnd:
        case Node::Kind::WordBoundary: case Node::Kind::NotWordBoundary: case Node::Kind::Look:
          fail("quantifier after an assertion");
        default: break;
      }
      auto r = make(Node::Kind::Repeat);
      r->min = mn;
      r->max = mx;
      if (eat('?')) r->greedy = false;
      else if (eat('+')) r->possessive = true;
      r->kids.push_back(std::move(atom));
      atom = std::move(r);
    }
    return atom;
  }

  char32_t parse_hex(size_t min_digits, size_t max_digits) {
    char32_t v = 0;
    size_t k = 0;
    while (k < max_digits && !at_end()) {
      char32_t c = peek();
      int d = (c >= '0' && c <= '9') ? int(c - '0') : (c >= 'a' && c <= 'f') ? int(c - 'a' + 10)
            : (c >= 'A' && c <= 'F') ? int(c - 'A' + 10) : -1;
      if (d < 0) break;
      v = v * 16 + d;
      ++i_; ++k;
    }
    if (k < min_digits) fail("expected hex digits");
    if (v > 0x10FFFF) fail("code point above U+10FFFF");
    return v;
  }

  // After '\\' and the letter p or P: \pL or \p{Name}.
  uint32_t parse_property_mask(bool& negated) {
    std::u32string name;
    if (eat('{')) {
      if (eat('^')) negated = !negated;
      while (!at_end() && peek() != '}') name.push_back(cps_[i_++]);
      if (!eat('}')) fail("expected '}' closing \\p{...}");
    } else {
      if (at_end()) fail("expected a property name after \\p");
      name.push_back(cps_[i_++]);
    }
    uint32_t m = category_mask(name);
    if (m == 0) {
      std::string n;
      for (char32_t c : name) utf8::append(n, c);
      fail("unsupported property \\p{" + n + "} (general categories only)");
    }
    return m;
  }

  // Escapes that denote a set (\d \s \w \p and negations); false if the escape letter is not one.
  bool parse_set_escape(char32_t c, ClassItem& item) {
    switch (c) {
      case 'd': case 'D': item = {ClassItem::Kind::Cats, c == 'D', 0, 0, cat_bit(UCat::Nd)}; return true;
      case 'w': case 'W': item = {ClassItem::Kind::Cats, c == 'W', 0, 0, kWordMask}; return true;
      case 's': case 'S': item = {ClassItem::Kind::White, c == 'S', 0, 0, 0}; return true;
      case 'p': case 'P': {
        bool neg = c == 'P';
        uint32_t m = parse_property_mask(neg);
        item = {ClassItem::Kind::Cats, neg, 0, 0, m};
        return true;
      }
      default: return false;
    }
  }

  // A single-character escape (after '\\'), e.g. \n \t \x41 \u00e9 \. ; fails for unknown letters.
  char32_t parse_char_escape(char32_t c) {
    switch (c) {
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'a': return 7;
      case 'e': return 27;
      case '0': return 0;
      case 'x':
        if (eat('{')) {
          char32_t v = parse_hex(1, 8);
          if (!eat('}')) fail("expected '}' closing \\x{...}");
          return v;
        }
        return parse_hex(2, 2);
      case 'u': return parse_hex(4, 4);
      default:
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
          std::string s;
          utf8::append(s, c);
          fail("unsupported escape \\" + s);
        }
        return c;  // escaped punctuation stands for itself
    }
  }

  NodePtr char_node(char32_t c, bool icase) {
    auto n = make(Node::Kind::Char);
    n->cp = c;
    n->icase = icase && (unicode_to_lower(c) != c || unicode_to_upper(c) != c);
    return n;
  }

  NodePtr class_node(CharClass cls) {
    cls.finish();
    classes_.push_back(std::move(cls));
    auto n = make(Node::Kind::Class);
    n->cls = static_cast<int>(classes_.size() - 1);
    return n;
  }

  NodePtr parse_class(bool icase) {
    CharClass cls;
    cls.icase = icase;
    if (eat('^')) cls.negated = true;
    bool first = true;
    while (true) {
      if (at_end()) fail("expected ']' closing a character class");
      char32_t c = peek();
      if (c == ']' && !first) { ++i_; break; }
      first = false;
      if (c == '[') fail("nested character classes are not supported");
      if (c == '&' && peek(1) == '&') fail("class intersection '&&' is not supported");
      ++i_;
      char32_t lo;
      if (c == '\\') {
        if (at_end()) fail("pattern ends inside an escape");
        char32_t e = cps_[i_++];
        ClassItem item;
        if (parse_set_escape(e, item)) { cls.items.push_back(item); continue; }
        if (e == 'b') lo = 8;
        else lo = parse_char_escape(e);
      } else {
        lo = c;
      }
      char32_t hi = lo;
      if (peek() == '-' && peek(1) != ']' && i_ + 1 < cps_.size()) {
        ++i_;
        char32_t h = cps_[i_++];
        if (h == '\\') {
          if (at_end()) fail("pattern ends inside an escape");
          char32_t e = cps_[i_++];
          ClassItem dummy;
          if (e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 's' || e == 'S' || e == 'p' || e == 'P')
            fail("a class range cannot end in a set escape");
          h = parse_char_escape(e);
          (void)dummy;
        }
        if (h < lo) fail("class range out of order");
        hi = h;
      }
      cls.items.push_back({ClassItem::Kind::Range, false, lo, hi, 0});
    }
    return class_node(std::move(cls));
  }

  // Returns null for an inline flag group that only changes flags, e.g. (?i).
  NodePtr parse_group(bool& icase, int depth) {
    // '(' already consumed
    NodePtr n;
    if (eat('?')) {
      char32_t c = peek();
      if (c == ':' ) { ++i_; bool f = icase; n = parse_alt(f, depth + 1); }
      else if (c == '=' || c == '!') {
        ++i_;
        bool f = icase;
        n = make(Node::Kind::Look);
        n->negated = c == '!';
        n->kids.push_back(parse_alt(f, depth + 1));
      } else if (c == '>') {
        ++i_;
        bool f = icase;
        n = make(Node::Kind::Atomic);
        n->kids.push_back(parse_alt(f, depth + 1));
      } else if (c == '<' && (peek(1) == '=' || peek(1) == '!')) {
        fail("lookbehind is not supported");
      } else if (c == '<' || c == 'P' || c == '\'') {
        // named group: (?<name>...), (?P<name>...), (?'name'...)
        if (c == 'P') ++i_;
        char32_t close = eat('\'') ? U'\'' : (eat('<') ? U'>' : 0);
        if (!close) fail("expected '<' after (?P");
        while (!at_end() && peek() != close) ++i_;
        if (!eat(close)) fail("unterminated group name");
        bool f = icase;
        n = parse_alt(f, depth + 1);
      } else {
        // flags: (?i) (?-i) (?i:...) (?i-s:...)
        bool on = true, f = icase;
        bool any = false;
        while (!at_end() && peek() != ':' && peek() != ')') {
          char32_t fl = cps_[i_++];
          if (fl == '-') { on = false; continue; }
          if (fl == 'i') f = on;
          else if (fl == 'x' || fl == 's' || fl == 'm' || fl == 'u') fail("unsupported inline flag");
          else fail("unknown group syntax after '(?'");
          any = true;
        }
        if (!any) fail("unknown group syntax after '(?'");
        if (eat(')')) { icase = f; return nullptr; }
        if (!eat(':')) fail("expected ':' or ')' after inline flags");
        n = parse_alt(f, depth + 1);
      }
    } else {
      bool f = icase;
      n = parse_alt(f, depth + 1);
    }
    if (!eat(')')) fail("expected ')' closing a group");
    return n;
  }

  NodePtr parse_atom(bool& icase, int depth) {
    char32_t c = cps_[i_++];
    switch (c) {
      case '(': {
        auto g = parse_group(icase, depth);
        if (!g) return nullptr;
        return g;
      }
      case '[': return parse_class(icase);
      case '.': {
        CharClass cls;
        cls.negated = true;
        cls.items.push_back({ClassItem::Kind::Range, false, '\n', '\n', 0});
        return class_node(std::move(cls));
      }
      case '^': return make(Node::Kind::LineStart);
      case '$': return make(Node::Kind::LineEnd);
      case '*': case '+': case '?': --i_; fail("quantifier with nothing to repeat");
      case '{':
        if (peek() >= '0' && peek() <= '9') { --i_; fail("quantifier with nothing to repeat"); }
        return char_node(c, icase);
      case '\\': {
        if (at_end()) fail("pattern ends inside an escape");
        char32_t e = cps_[i_++];
        switch (e) {
          case 'A': return make(Node::Kind::TextStart);
          case 'z': return make(Node::Kind::TextEnd);
          case 'b': return make(Node::Kind::WordBoundary);
          case 'B': return make(Node::Kind::NotWordBoundary);
          default: break;
        }
        ClassItem item;
        if (parse_set_escape(e, item)) {
          CharClass cls;
          cls.icase = icase;
          cls.items.push_back(item);
          return class_node(std::move(cls));
        }
        return char_node(parse_char_escape(e), icase);
      }
      default: return char_node(c, icase);
    }
  }

  std::string_view pattern_;
  std::vector<CharClass>& classes_;
  std::vector<char32_t> cps_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------- program

enum class Op : uint8_t { Char, Class, Split, Jmp, Match, LineStart, LineEnd, TextStart, TextEnd, WordB, NotWordB,
                          Look, NegLook, Atomic, Mark, Check };

struct Inst {
  Op op;
  uint32_t a = 0, b = 0;
  char32_t c1 = 0, c2 = 0, c3 = 0;  // Char: the code point and, case-insensitively, its other cases
};

}  // namespace

struct Regex::Program {
  std::string pattern;
  std::vector<CharClass> classes;
  std::vector<std::vector<Inst>> subs;  // subs[0] is the whole pattern; others lookaheads/atomics
  std::vector<uint32_t> registers;      // registers per sub-program
};

namespace {

class Compiler {
 public:
  Compiler(Regex::Program& p, Parser& parser) : p_(p), parser_(parser) {}

  uint32_t compile_sub(const Node& n) {
    uint32_t idx = static_cast<uint32_t>(p_.subs.size());
    p_.subs.emplace_back();
    p_.registers.push_back(0);
    std::vector<Inst> code;
    uint32_t regs = 0;
    emit(n, code, regs);
    code.push_back({Op::Match});
    p_.subs[idx] = std::move(code);
    p_.registers[idx] = regs;
    return idx;
  }

 private:
  void push(std::vector<Inst>& code, Inst in) {
    if (++total_ > kMaxProgram) parser_.fail("pattern expands to too many instructions");
    code.push_back(in);
  }

  void emit(const Node& n, std::vector<Inst>& code, uint32_t& regs) {
    switch (n.kind) {
      case Node::Kind::Empty: return;
      case Node::Kind::Char: {
        Inst in{Op::Char};
        in.c1 = n.cp;
        in.c2 = n.icase ? unicode_to_lower(n.cp) : n.cp;
        in.c3 = n.icase ? unicode_to_upper(n.cp) : n.cp;
        push(code, in);
        return;
      }
      case Node::Kind::Class: push(code, {Op::Class, static_cast<uint32_t>(n.cls)}); return;
      case Node::Kind::Any: return;
      case Node::Kind::Concat:
        for (const auto& k : n.kids) emit(*k, code, regs);
        return;
      case Node::Kind::Alt: {
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            size_t split = code.size();
            push(code, {Op::Split, uint32_t(split + 1), 0});
            emit(*n.kids[i], code, regs);
            jumps.push_back(code.size());
            push(code, {Op::Jmp});
            code[split].b = static_cast<uint32_t>(code.size());
          } else {
            emit(*n.kids[i], code, regs);
          }
        }
        for (size_t j : jumps) code[j].a = static_cast<uint32_t>(code.size());
        return;
      }
      case Node::Kind::Repeat: emit_repeat(n, code, regs); return;
      case Node::Kind::LineStart: push(code, {Op::LineStart}); return;
      case Node::Kind::LineEnd: push(code, {Op::LineEnd}); return;
      case Node::Kind::TextStart: push(code, {Op::TextStart}); return;
      case Node::Kind::TextEnd: push(code, {Op::TextEnd}); return;
      case Node::Kind::WordBoundary: push(code, {Op::WordB}); return;
      case Node::Kind::NotWordBoundary: push(code, {Op::NotWordB}); return;
      case Node::Kind::Look: {
        uint32_t sub = compile_sub(*n.kids[0]);
        push(code, {n.negated ? Op::NegLook : Op::Look, sub});
        return;
      }
      case Node::Kind::Atomic: {
        uint32_t sub = compile_sub(*n.kids[0]);
        push(code, {Op::Atomic, sub});
        return;
      }
    }
  }

  // Split whose first choice is `preferred` per greediness.
  void emit_split(std::vector<Inst>& code, bool greedy, uint32_t body, uint32_t skip, size_t at) {
    code[at].a = greedy ? body : skip;
    code[at].b = greedy ? skip : body;
  }

  void emit_repeat(const Node& n, std::vector<Inst>& code, uint32_t& regs) {
    const Node& body = *n.kids[0];
    if (n.possessive) {
      // x*+ is (?>x*): compile the greedy loop as an atomic sub-program
      uint32_t sub = static_cast<uint32_t>(p_.subs.size());
      p_.subs.emplace_back();
      p_.registers.push_back(0);
      std::vector<Inst> sc;
      uint32_t sregs = 0;
      emit_loop(body, n.min, n.max, true, sc, sregs);
      sc.push_back({Op::Match});
      p_.subs[sub] = std::move(sc);
      p_.registers[sub] = sregs;
      push(code, {Op::Atomic, sub});
      return;
    }
    emit_loop(body, n.min, n.max, n.greedy, code, regs);
  }

  void emit_loop(const Node& body, int min, int max, bool greedy, std::vector<Inst>& code, uint32_t& regs) {
    for (int i = 0; i < min; ++i) emit(body, code, regs);
    if (max == -1) {
      const bool empty_ok = nullable(body);
      size_t loop = code.size();
      push(code, {Op::Split});
      uint32_t reg = 0;
      if (empty_ok) {
        reg = regs++;
        push(code, {Op::Mark, reg});
      }
      emit(body, code, regs);
      if (empty_ok) push(code, {Op::Check, reg});
      push(code, {Op::Jmp, static_cast<uint32_t>(loop)});
      emit_split(code, greedy, uint32_t(loop + 1), static_cast<uint32_t>(code.size()), loop);
      return;
    }
    std::vector<size_t> splits;
    for (int i = min; i < max; ++i) {
      splits.push_back(code.size());
      push(code, {Op::Split});
      emit(body, code, regs);
    }
    uint32_t end = static_cast<uint32_t>(code.size());
    for (size_t s : splits) emit_split(code, greedy, uint32_t(s + 1), end, s);
  }

  Regex::Program& p_;
  Parser& parser_;
  size_t total_ = 0;
};

// Backtracking budget for one find_all: generous for real tokenizer patterns (tens of steps per
// character), small enough that a pathological pattern fails fast instead of hanging.
uint64_t step_budget(size_t n) { return 2'000'000 + 4'000ull * n; }

struct Frame {
  uint32_t pc;
  uint32_t pos;
  int32_t reg;  // >= 0: restore registers[reg] = pos on backtrack, not a thread
};

class Vm {
 public:
  Vm(const Regex::Program& p, std::span<const char32_t> text, uint64_t& budget) : p_(p), t_(text), budget_(budget) {}

  // Runs sub-program `sub` anchored at `start`; true with `end` set on a match.
  bool run(uint32_t sub, size_t start, size_t& end, int depth) {
    if (depth > kMaxNesting) throw Error("regex '" + p_.pattern + "': lookahead nesting too deep");
    const auto& code = p_.subs[sub];
    // scratch reused across calls: find_all runs the program at every start position
    if (stacks_.size() <= size_t(depth)) { stacks_.resize(depth + 1); regs_.resize(depth + 1); }
    std::vector<Frame>& stack = stacks_[depth];
    std::vector<uint32_t>& regs = regs_[depth];
    stack.clear();
    regs.assign(p_.registers[sub], std::numeric_limits<uint32_t>::max());
    stack.push_back({0, static_cast<uint32_t>(start), -1});
    const size_t n = t_.size();
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      if (f.reg >= 0) {
        regs[f.reg] = f.pos;
        continue;
      }
      uint32_t pc = f.pc;
      size_t pos = f.pos;
      while (true) {
        if (budget_ == 0) throw Error("regex '" + p_.pattern + "': too much backtracking on this input");
        --budget_;
        const Inst& in = code[pc];
        bool ok = true;
        switch (in.op) {
          case Op::Char:
            ok = pos < n && (t_[pos] == in.c1 || t_[pos] == in.c2 || t_[pos] == in.c3);
            if (ok) { ++pos; ++pc; }
            break;
          case Op::Class:
            ok = pos < n && p_.classes[in.a].contains(t_[pos]);
            if (ok) { ++pos; ++pc; }
            break;
          case Op::Split:
            stack.push_back({in.b, static_cast<uint32_t>(pos), -1});
            pc = in.a;
            break;
          case Op::Jmp: pc = in.a; break;
          case Op::Match: end = pos; return true;
          case Op::LineStart: ok = pos == 0 || t_[pos - 1] == '\n'; ++pc; break;
          case Op::LineEnd: ok = pos == n || t_[pos] == '\n'; ++pc; break;
          case Op::TextStart: ok = pos == 0; ++pc; break;
          case Op::TextEnd: ok = pos == n; ++pc; break;
          case Op::WordB: case Op::NotWordB: {
            bool before = pos > 0 && is_word_char(t_[pos - 1]);
            bool after = pos < n && is_word_char(t_[pos]);
            ok = (before != after) == (in.op == Op::WordB);
            ++pc;
            break;
          }
          case Op::Look: case Op::NegLook: {
            size_t e;
            ok = run(in.a, pos, e, depth + 1) == (in.op == Op::Look);
            ++pc;
            break;
          }
          case Op::Atomic: {
            size_t e;
            ok = run(in.a, pos, e, depth + 1);
            if (ok) { pos = e; ++pc; }
            break;
          }
          case Op::Mark:
            stack.push_back({0, regs[in.a], static_cast<int32_t>(in.a)});
            regs[in.a] = static_cast<uint32_t>(pos);
            ++pc;
            break;
          case Op::Check:
            ok = regs[in.a] != pos;  // an unbounded loop must consume something per turn
            ++pc;
            break;
        }
        if (!ok) break;
      }
    }
    return false;
  }

 private:
  const Regex::Program& p_;
  std::span<const char32_t> t_;
  uint64_t& budget_;
  std::deque<std::vector<Frame>> stacks_;  // deque: growing keeps outer references valid
  std::deque<std::vector<uint32_t>> regs_;
};

}  // namespace

Regex Regex::compile(std::string_view pattern) {
  auto prog = std::make_shared<Program>();
  prog->pattern = std::string(pattern);
  Parser parser(pattern, prog->classes);
  NodePtr root = parser.parse();
  Compiler compiler(*prog, parser);
  compiler.compile_sub(*root);
  Regex r;
  r.prog_ = std::move(prog);
  return r;
}

const std::string& Regex::pattern() const { return prog_->pattern; }

long Regex::match_at(std::span<const char32_t> text, size_t start) const {
  uint64_t budget = step_budget(text.size());
  Vm vm(*prog_, text, budget);
  size_t end;
  return vm.run(0, start, end, 0) ? static_cast<long>(end) : -1;
}

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::span<const char32_t> text) const {
  std::vector<std::pair<size_t, size_t>> out;
  uint64_t budget = step_budget(text.size());
  Vm vm(*prog_, text, budget);
  size_t pos = 0;
  while (pos <= text.size()) {
    bool found = false;
    for (size_t s = pos; s <= text.size(); ++s) {
      size_t end;
      if (vm.run(0, s, end, 0)) {
        out.emplace_back(s, end);
        pos = end > s ? end : s + 1;
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  return out;
}

// ---------------------------------------------------------------- splitting

std::vector<std::pair<size_t, size_t>> split_ranges(size_t n, const std::vector<std::pair<size_t, size_t>>& matches,
                                                    SplitBehavior behavior, bool invert) {
  // (range, is_match) covering [0, n) in order
  std::vector<std::pair<std::pair<size_t, size_t>, bool>> parts;
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (b > prev) parts.push_back({{prev, b}, invert});
    parts.push_back({{b, e}, !invert});
    prev = e;
  }
  if (prev < n) parts.push_back({{prev, n}, invert});

  std::vector<std::pair<size_t, size_t>> out;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (auto& [r, m] : parts)
        if (!m) out.push_back(r);
      break;
    case SplitBehavior::Isolated:
      for (auto& [r, m] : parts) out.push_back(r);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_match = false;
      for (auto& [r, m] : parts) {
        if (m && !prev_match && !out.empty()) out.back().second = r.second;
        else out.push_back(r);
        prev_match = m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev_match = false;
      for (size_t i = parts.size(); i-- > 0;) {
        auto& [r, m] = parts[i];
        if (m && !prev_match && !out.empty()) out.back().first = r.first;
        else out.push_back(r);
        prev_match = m;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      for (auto& [r, m] : parts) {
        if (m == prev_match && !out.empty()) out.back().second = r.second;
        else out.push_back(r);
        prev_match = m;
      }
      break;
    }
  }
  std::erase_if(out, [](const auto& r) { return r.first == r.second; });
  return out;
}

namespace {

void split_piece(const TextPiece& piece, const PreTokenizerStep& step, std::vector<TextPiece>& out) {
  std::vector<uint32_t> offsets;
  std::vector<char32_t> cps = utf8::decode_all(piece.text, &offsets);
  auto matches = step.regex->find_all(cps);
  for (auto [b, e] : split_ranges(cps.size(), matches, step.behavior, step.invert)) {
    out.push_back({piece.text.substr(offsets[b], offsets[e] - offsets[b]), piece.at_origin && b == 0});
  }
}

void metaspace_piece(TextPiece piece, const PreTokenizerStep& step, std::vector<TextPiece>& out) {
  std::string s;
  s.reserve(piece.text.size() + step.replacement.size());
  for (char c : piece.text) {
    if (c == ' ') s += step.replacement;
    else s.push_back(c);
  }
  bool starts = s.compare(0, step.replacement.size(), step.replacement) == 0;
  if (!starts && (step.prepend == PreTokenizerStep::Prepend::Always ||
                  (step.prepend == PreTokenizerStep::Prepend::First && piece.at_origin)))
    s = step.replacement + s;
  if (!step.split) {
    out.push_back({std::move(s), piece.at_origin});
    return;
  }
  // MergedWithNext on the replacement: each piece starts at a replacement
  size_t start = 0;
  bool first = true;
  for (size_t at = s.find(step.replacement, 1); at != std::string::npos; at = s.find(step.replacement, at + 1)) {
    out.push_back({s.substr(start, at - start), piece.at_origin && first});
    first = false;
    start = at;
  }
  if (start < s.size()) out.push_back({s.substr(start), piece.at_origin && first});
}

}  // namespace

std::vector<TextPiece> pre_tokenize(std::vector<TextPiece> pieces, const std::vector<PreTokenizerStep>& steps) {
  for (const auto& step : steps) {
    std::vector<TextPiece> next;
    next.reserve(pieces.size() * 2);
    for (auto& p : pieces) {
      switch (step.kind) {
        case PreTokenizerStep::Kind::RegexSplit: split_piece(p, step, next); break;
        case PreTokenizerStep::Kind::PrefixSpace:
          if (p.text.empty() || p.text[0] != ' ') p.text.insert(p.text.begin(), ' ');
          next.push_back(std::move(p));
          break;
        case PreTokenizerStep::Kind::Metaspace: metaspace_piece(std::move(p), step, next); break;
      }
    }
    std::erase_if(next, [](const TextPiece& p) { return p.text.empty(); });
    pieces = std::move(next);
  }
  return pieces;
}

std::string normalize(std::string text, const std::vector<NormalizerStep>& steps) {
  for (const auto& step : steps) {
    switch (step.kind) {
      case NormalizerStep::Kind::Prepend:
        if (!text.empty()) text = step.text + text;
        break;
      case NormalizerStep::Kind::Replace: {
        std::string out;
        if (step.regex) {
          std::vector<uint32_t> offsets;
          auto cps = utf8::decode_all(text, &offsets);
          size_t prev = 0;
          for (auto [b, e] : step.regex->find_all(cps)) {
            if (b == e) continue;
            out.append(text, offsets[prev], offsets[b] - offsets[prev]);
            out += step.content;
            prev = e;
          }
          out.append(text, offsets[prev], std::string::npos);
        } else if (step.text.empty()) {
          out = text;
        } else {
          size_t prev = 0;
          for (size_t at = text.find(step.text); at != std::string::npos; at = text.find(step.text, prev)) {
            out.append(text, prev, at - prev);
            out += step.content;
            prev = at + step.text.size();
          }
          out.append(text, prev, std::string::npos);
        }
        text = std::move(out);
        break;
      }
      case NormalizerStep::Kind::Lowercase: {
        std::string out;
        for (char32_t c : utf8::decode_all(text)) utf8::append(out, unicode_to_lower(c));
        text = std::move(out);
        break;
      }
      case NormalizerStep::Kind::Strip: {
        auto cps = utf8::decode_all(text);
        size_t b = 0, e = cps.size();
        if (step.strip_left)
          while (b < e && unicode_is_white_space(cps[b])) ++b;
        if (step.strip_right)
          while (e > b && unicode_is_white_space(cps[e - 1])) --e;
        std::string out;
        for (size_t i = b; i < e; ++i) utf8::append(out, cps[i]);
        text = std::move(out);
        break;
      }
    }
  }
  return text;
}

// ---------------------------------------------------------------- named (GGUF) pre-tokenizers

const char* const kGpt2SplitPattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {
// The patterns llama.cpp's llama-vocab associates with each pre-tokenizer family, written in the
// original tokenizer.json form where llama.cpp rewrote (?i:...) for its own engine.
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kTekkenPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kGpt4oPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kGpt2NoTail = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
}  // namespace

NamedPreTokenizer gguf_pre_tokenizer(const std::string& name) {
  auto is = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (name == n) return true;
    return false;
  };
  if (name == "default")
    return {{R"([\p{P}\$\+<=>\^~\|]+)", kGpt2NoTail, R"(\p{N}+)", "[0-9][0-9][0-9]"}};
  if (is({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"}))
    return {{kLlama3Pattern}, true, true};
  if (is({"dbrx", "smaug-bpe", "chatglm-bpe", "glm4"})) return {{kLlama3Pattern}};
  if (is({"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"}))
    return {{R"(\p{N})", kGpt2SplitPattern}};
  if (is({"gpt2", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "jina-v1-en",
          "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "trillion", "a.x-4.0", "mellum", "modern-bert"}))
    return {{kGpt2SplitPattern}};
  if (is({"qwen2", "deepseek-r1-qwen", "stablelm2", "hunyuan"})) return {{kQwen2Pattern}};
  if (name == "falcon")
    return {{R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2NoTail, "[0-9][0-9][0-9]"}};
  if (is({"poro-chat", "bloom", "gpt3-finnish"})) return {{R"( ?[^(\s|.,!?…。，、।۔،)]+)"}};
  if (name == "tekken") return {{kTekkenPattern}};
  if (is({"gpt-4o", "minimax-m2"})) return {{kGpt4oPattern}};
  if (name == "deepseek-coder")
    return {{"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", "[一-龥ࠀ-一가-퟿]+", R"(\p{N})"}};
  throw Error("unknown tokenizer.ggml.pre '" + name + "' (no pre-tokenizer regex known for it)");
}

}  // namespace isc
