// Strict typed access to YAML/JSON maps with "file:line:col" errors (see yaml_fields.h).
// yaml-cpp reports positions 0-based; users read editors' 1-based positions.
#include "tasks/yaml_fields.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/error.h"

namespace isc::tasks {

std::string yaml_position(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

YAML::Node load_yaml_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error(path + ": file not found");
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

YamlMap::YamlMap(std::string file, YAML::Node node, std::string what)
    : file_(std::move(file)), node_(std::move(node)), what_(std::move(what)) {
  if (!node_.IsMap()) throw Error(yaml_position(file_, node_) + ": expected a map for " + what_);
}

YAML::Node YamlMap::value(const std::string& key) const {
  // operator[] on a const node never inserts; an absent key yields an undefined node
  const YAML::Node& n = node_;
  return n[key];
}

bool YamlMap::has(const std::string& key) const {
  YAML::Node v = value(key);
  return v.IsDefined() && !v.IsNull();
}

std::string YamlMap::position_of(const std::string& key) const {
  YAML::Node v = value(key);
  return v.IsDefined() ? yaml_position(file_, v) : position();
}

void YamlMap::allow_only(std::initializer_list<const char*> keys) const {
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) throw Error(yaml_position(file_, kv.first) + ": expected a plain key in " + what_);
    const std::string key = kv.first.Scalar();
    bool known = false;
    for (const char* k : keys) known = known || key == k;
    if (!known) {
      std::string expected;
      for (const char* k : keys) expected += std::string(expected.empty() ? "" : ", ") + k;
      throw Error(fmt::format("{}: unknown key '{}' in {} (expected one of: {})",
                              yaml_position(file_, kv.first), key, what_, expected));
    }
  }
}

void YamlMap::allow_any_scalar_keys() const {
  for (const auto& kv : node_)
    if (!kv.first.IsScalar()) throw Error(yaml_position(file_, kv.first) + ": expected a plain key in " + what_);
}

std::string YamlMap::required_string(const std::string& key) const {
  auto s = string(key);
  if (!s) throw Error(fmt::format("{}: {} needs key '{}'", position(), what_, key));
  return *s;
}

std::optional<std::string> YamlMap::string(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) throw Error(fmt::format("{}: expected a string for '{}'", yaml_position(file_, v), key));
  return v.Scalar();
}

std::optional<long long> YamlMap::integer(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  try {
    if (!v.IsScalar()) throw YAML::Exception(v.Mark(), "not a scalar");
    return v.as<long long>();
  } catch (const YAML::Exception&) {
    throw Error(fmt::format("{}: expected an integer for '{}'", yaml_position(file_, v), key));
  }
}

std::optional<double> YamlMap::number(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  try {
    if (!v.IsScalar()) throw YAML::Exception(v.Mark(), "not a scalar");
    return v.as<double>();
  } catch (const YAML::Exception&) {
    throw Error(fmt::format("{}: expected a number for '{}'", yaml_position(file_, v), key));
  }
}

std::optional<bool> YamlMap::boolean(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  try {
    if (!v.IsScalar()) throw YAML::Exception(v.Mark(), "not a scalar");
    return v.as<bool>();
  } catch (const YAML::Exception&) {
    throw Error(fmt::format("{}: expected true or false for '{}'", yaml_position(file_, v), key));
  }
}

std::optional<std::vector<std::string>> YamlMap::string_list(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (v.IsScalar()) return std::vector<std::string>{v.Scalar()};
  if (!v.IsSequence()) throw Error(fmt::format("{}: expected a list of strings for '{}'", yaml_position(file_, v), key));
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.IsScalar()) throw Error(fmt::format("{}: expected a string in list '{}'", yaml_position(file_, e), key));
    out.push_back(e.Scalar());
  }
  return out;
}

std::optional<std::vector<long long>> YamlMap::integer_list(const std::string& key, const std::string& what) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsScalar() && !v.IsSequence())
    throw Error(fmt::format("{}: expected an integer or a list of integers for '{}'", yaml_position(file_, v), key));
  std::vector<long long> out;
  auto one = [&](const YAML::Node& e) {
    try {
      if (!e.IsScalar()) throw YAML::Exception(e.Mark(), "not a scalar");
      out.push_back(e.as<long long>());
    } catch (const YAML::Exception&) {
      throw Error(fmt::format("{}: expected {}", yaml_position(file_, e), what.empty() ? "an integer in '" + key + "'" : what));
    }
  };
  if (v.IsScalar()) one(v);
  else for (const auto& e : v) one(e);
  return out;
}

std::optional<YamlMap> YamlMap::map(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  return YamlMap(file_, v, "'" + key + "'");
}

std::optional<std::vector<YamlMap>> YamlMap::map_list(const std::string& key) const {
  YAML::Node v = value(key);
  if (!v.IsDefined() || v.IsNull()) return std::nullopt;
  if (!v.IsSequence()) throw Error(fmt::format("{}: expected a list for '{}'", yaml_position(file_, v), key));
  std::vector<YamlMap> out;
  for (const auto& e : v) out.emplace_back(file_, e, "an entry of '" + key + "'");
  return out;
}

}  // namespace isc::tasks
