#include "cli/config_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <toml.hpp>
#include <utility>

namespace netscope::cli {

namespace {

// std::map tables: toml11's default unordered_map would make the order in which
// entries are applied, and so which error is reported first, depend on hashing.
using Toml = toml::basic_value<toml::discard_comments, std::map, std::vector>;

std::string where(const std::string& path, std::uint_least32_t line) {
  return fmt::format("{}:{}", path, line);
}

// An option's own long names: `--no-resolve` and `--numeric` on one option are one key.
bool has_long_name(const CLI::Option& opt, const std::string& name) {
  const auto& names = opt.get_lnames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Option groups are nameless sub-apps whose options belong to their parent.
CLI::Option* find_long_option(CLI::App& app, const std::string& name) {
  for (CLI::Option* opt : app.get_options()) {
    if (has_long_name(*opt, name)) return opt;
  }
  for (CLI::App* group : app.get_subcommands([](CLI::App* a) { return a->get_name().empty(); })) {
    if (CLI::Option* opt = find_long_option(*group, name)) return opt;
  }
  return nullptr;
}

CLI::App* find_subcommand(CLI::App& app, const std::string& name) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return !a->get_name().empty(); })) {
    if (sub->check_name(name)) return sub;
  }
  return nullptr;
}

// "(it is an option of [snapshot])" when a top-level key belongs to a subcommand.
std::string owner_hint(CLI::App& app, const std::string& name) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return !a->get_name().empty(); })) {
    if (find_long_option(*sub, name) != nullptr) {
      return fmt::format(" (it is an option of [{}])", sub->get_name());
    }
  }
  return "";
}

// A TOML scalar as the text CLI11 would have read on the command line.
std::string scalar_text(const Toml& v, const std::string& at) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return v.as_boolean() ? "true" : "false";
    case toml::value_t::integer:
      return std::to_string(v.as_integer());
    case toml::value_t::floating:
      return fmt::format("{}", v.as_floating());
    case toml::value_t::string:
      return v.as_string().str;
    case toml::value_t::array:
      throw ConfigError(at + ": nested arrays are not supported");
    case toml::value_t::table:
      throw ConfigError(at + ": a table is not a value here");
    default:
      throw ConfigError(at + ": dates and times are not supported as option values");
  }
}

std::vector<std::string> value_texts(const Toml& v, const std::string& at) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const Toml& item : v.as_array()) out.push_back(scalar_text(item, at));
  } else {
    out.push_back(scalar_text(v, at));
  }
  return out;
}

// The entries of a table in file order, so that the first bad line is the one reported.
std::vector<std::pair<const std::string*, const Toml*>> in_file_order(const Toml& table) {
  std::vector<std::pair<const std::string*, const Toml*>> entries;
  for (const auto& [key, value] : table.as_table()) entries.emplace_back(&key, &value);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.second->location().line() < b.second->location().line();
  });
  return entries;
}

class Applier {
 public:
  explicit Applier(CLI::App& root) : root_(root) { collect_given(root); }

  void apply_file(const std::string& path, const Toml& doc) {
    path_ = &path;
    apply_table(root_, doc, true);
  }

 private:
  // Options the command line set, and every long name they carry, across the chain of
  // parsed subcommands. Computed before anything is applied, since applying a config
  // value makes count() nonzero too.
  void collect_given(CLI::App& app) {
    for (CLI::Option* opt : app.get_options()) {
      if (opt->count() == 0) continue;
      given_.insert(opt);
      for (const std::string& name : opt->get_lnames()) given_names_.insert(name);
    }
    for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return a->get_name().empty(); })) {
      collect_given(*sub);
    }
    for (CLI::App* sub : app.get_subcommands()) collect_given(*sub);
  }

  bool given_on_command_line(const CLI::Option& opt) const {
    if (given_.count(&opt) > 0) return true;
    return std::any_of(opt.get_lnames().begin(), opt.get_lnames().end(),
                       [this](const std::string& n) { return given_names_.count(n) > 0; });
  }

  bool active(const CLI::App& app) const { return &app == &root_ || app.parsed(); }

  // Plain keys before tables: a top-level key also reaches the subcommand's option of
  // the same name, and the subcommand's own table must override that.
  void apply_table(CLI::App& app, const Toml& table, bool top_level) {
    const auto entries = in_file_order(table);
    for (const auto& [key, value] : entries) {
      if (!value->is_table()) apply_key(app, *key, *value, top_level);
    }
    for (const auto& [key, value] : entries) {
      if (!value->is_table()) continue;
      CLI::App* sub = find_subcommand(app, *key);
      if (sub == nullptr) {
        throw ConfigError(fmt::format("{}: unknown section [{}]: no such subcommand",
                                      where(*path_, value->location().line()), *key));
      }
      apply_table(*sub, *value, false);
    }
  }

  void apply_key(CLI::App& app, const std::string& key, const Toml& value, bool top_level) {
    const std::string at = where(*path_, value.location().line());
    CLI::Option* opt = find_long_option(app, key);
    if (opt == nullptr) {
      throw ConfigError(fmt::format("{}: unknown option \"{}\"{}", at, key,
                                    top_level ? owner_hint(app, key) : ""));
    }
    if (!opt->get_configurable()) {
      throw ConfigError(fmt::format("{}: --{} cannot be set in a config file", at, key));
    }
    if (!active(app)) return;  // a subcommand not being run: its key exists, that is all
    apply_value(*opt, key, value, at);
    if (!top_level) return;
    for (CLI::App* sub : root_.get_subcommands()) {
      if (CLI::Option* same = find_long_option(*sub, key); same != nullptr && same != opt) {
        apply_value(*same, key, value, at);
      }
    }
  }

  void apply_value(CLI::Option& opt, const std::string& key, const Toml& value,
                   const std::string& at) {
    if (given_on_command_line(opt)) return;
    for (CLI::Option* other : opt.get_excludes()) {
      if (given_on_command_line(*other)) return;
      if (const auto it = set_by_config_.find(other); it != set_by_config_.end()) {
        throw ConfigError(fmt::format("{}: --{} excludes {}, which {} sets", at, key,
                                      other->get_name(), it->second));
      }
    }
    const std::vector<std::string> texts = value_texts(value, at);
    opt.clear();
    try {
      if (opt.get_expected_min() == 0) {
        // A flag: `show-localhost = true`, or a count such as `verbose = 2`.
        if (texts.size() != 1) {
          throw ConfigError(fmt::format("{}: --{} is a flag and takes one value", at, key));
        }
        opt.add_result(opt.get_flag_value(key, texts.front()));
      } else {
        opt.add_result(texts);
      }
      opt.run_callback();
    } catch (const CLI::Error& e) {
      opt.clear();
      // CLI11's validators already lead with the option's name; its conversions do not.
      const std::string what = e.what();
      const std::string name = "--" + key + ": ";
      throw ConfigError(at + ": " + (what.rfind(name, 0) == 0 ? what : name + what));
    }
    set_by_config_[&opt] = at;
  }

  CLI::App& root_;
  const std::string* path_ = nullptr;
  std::set<const CLI::Option*> given_;
  std::set<std::string> given_names_;
  std::map<const CLI::Option*, std::string> set_by_config_;  // option -> "file:line"
};

// The file's bytes, or nullopt when it does not exist. Anything else that stops the read
// (permissions, a directory, an I/O error) is an error: a config the user wrote must not
// be silently ignored.
std::optional<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    // A directory on the way that we may not search (HOME still pointing at /root after
    // dropping to another user): we cannot tell whether the file exists, and no file of
    // ours could be there. A file that exists but may not be read is still an error.
    const int err = errno;
    struct stat probe {};
    if (err == EACCES && ::stat(path.c_str(), &probe) != 0 && errno == EACCES) return std::nullopt;
    throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw ConfigError(fmt::format("{}: cannot read: is a directory", path));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(err)));
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

// toml11 formats "[error] what\n --> file\n  | excerpt"; keep its excerpt, but lead with
// the file:line prefix every other config error has.
std::string syntax_message(const std::string& path, const toml::syntax_error& e) {
  std::string what = e.what();
  if (what.rfind("[error] ", 0) == 0) what.erase(0, 8);
  return fmt::format("{}: {}", where(path, e.location().line()), what);
}

}  // namespace

std::vector<std::string> default_config_paths(const char* xdg_config_home, const char* home) {
  std::vector<std::string> paths{"/etc/netscope/config.toml"};
  if (xdg_config_home != nullptr && xdg_config_home[0] == '/') {
    paths.push_back(std::string(xdg_config_home) + "/netscope/config.toml");
  } else if (home != nullptr && home[0] == '/') {
    paths.push_back(std::string(home) + "/.config/netscope/config.toml");
  }
  return paths;
}

std::vector<std::string> default_config_paths() {
  const char* home = std::getenv("HOME");
  std::string pw_home;
  if (home == nullptr || home[0] == '\0') {
    // No $HOME (a service, `env -i`): the password database still knows.
    if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
      pw_home = pw->pw_dir;
      home = pw_home.c_str();
    }
  }
  return default_config_paths(std::getenv("XDG_CONFIG_HOME"), home);
}

std::vector<ConfigSource> apply_config_files(CLI::App& app, const std::vector<std::string>& paths) {
  Applier applier(app);
  std::vector<ConfigSource> read;
  for (const std::string& path : paths) {
    const std::optional<std::string> text = read_file(path);
    if (!text) continue;
    std::istringstream in(*text);
    Toml doc;
    try {
      doc = toml::parse<toml::discard_comments, std::map, std::vector>(in, path);
    } catch (const toml::syntax_error& e) {
      throw ConfigError(syntax_message(path, e));
    } catch (const toml::exception& e) {
      throw ConfigError(fmt::format("{}: {}", where(path, e.location().line()), e.what()));
    }
    applier.apply_file(path, doc);
    read.push_back(ConfigSource{path});
  }
  return read;
}

}  // namespace netscope::cli
