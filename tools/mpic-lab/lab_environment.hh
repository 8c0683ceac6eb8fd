#pragma once
// GoogleTest glue for the lab: start a scenario once per test suite (lab_fixture) or once per test binary
// (lab_environment), and fail loudly -- never skip -- when the servers cannot start.
//
//   struct poisoned { static std::string file() { return mpic::lab::scenario_file("dns-poisoning.toml"); } };
//   class poisoning_test : public mpic::lab::lab_fixture<poisoned> {};
//   TEST_F(poisoning_test, perspective_3_sees_forged_txt) { auto port = lab().dns_port(); ... }
//
// Header-only so that mpic_lab itself does not link GoogleTest; include it only from test code.

#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tools/mpic-lab/lab.hh"
#include "tools/mpic-lab/scenario.hh"

namespace mpic::lab {

/// Absolute path of a scenario shipped in tools/mpic-lab/scenarios/ (MPIC_LAB_SCENARIO_DIR is set by mpic_lab).
inline std::string scenario_file(const std::string& name) {
#ifdef MPIC_LAB_SCENARIO_DIR
    return std::string(MPIC_LAB_SCENARIO_DIR) + "/" + name;
#else
    return "tools/mpic-lab/scenarios/" + name;
#endif
}

/// Parses and starts a scenario given as a file path, or as TOML text when `is_text`. Records a fatal GoogleTest
/// failure (with the parse error or the servers' start-up diagnostics) and returns nullptr when it cannot.
inline std::unique_ptr<lab> start_lab_or_fail(const std::string& source, bool is_text, options opts = {}) {
    parse_result parsed = is_text ? parse_scenario(source, "<inline scenario>") : load_scenario(source);
    if (!parsed) {
        ADD_FAILURE() << "bad scenario: " << parsed.error().to_string();
        return nullptr;
    }
    auto diagnostics = std::make_shared<std::ostringstream>();
    opts.log = [diagnostics](std::string_view m) { *diagnostics << m << "\n"; };
    auto started = lab::start(parsed.value(), std::move(opts));
    if (!started) {
        ADD_FAILURE() << "lab start-up failed: " << started.error().message() << "\n" << diagnostics->str();
        return nullptr;
    }
    return std::move(*started);
}

/// Test-suite fixture: Scenario provides either `static std::string file()` (a path) or `static std::string
/// toml()` (inline text). The lab starts in SetUpTestSuite and stops in TearDownTestSuite; every test of the suite
/// shares it. Tests must not change the servers' state.
template <class Scenario>
class lab_fixture : public ::testing::Test {
public:
    static void SetUpTestSuite() {
        if constexpr (requires { Scenario::toml(); }) {
            _lab = start_lab_or_fail(Scenario::toml(), true);
        } else {
            _lab = start_lab_or_fail(Scenario::file(), false);
        }
    }
    static void TearDownTestSuite() { _lab.reset(); }

protected:
    void SetUp() override { ASSERT_NE(_lab, nullptr) << "the suite's lab did not start"; }
    /// The running lab. Precondition: SetUp() passed.
    static mpic::lab::lab& lab() { return *_lab; }

private:
    static inline std::unique_ptr<mpic::lab::lab> _lab;
};

/// Whole-binary environment: `::testing::AddGlobalTestEnvironment(new lab_environment(path))` in main, then
/// `lab_environment::current()` in tests. Start-up failure fails the environment's SetUp (and with it every test).
class lab_environment : public ::testing::Environment {
public:
    explicit lab_environment(std::string scenario_path) : _path(std::move(scenario_path)) {}
    void SetUp() override {
        _lab = start_lab_or_fail(_path, false);
        _current = _lab.get();
        ASSERT_NE(_lab, nullptr);
    }
    void TearDown() override {
        _current = nullptr;
        _lab.reset();
    }
    /// The running lab of the global environment, or nullptr outside it.
    static mpic::lab::lab* current() { return _current; }

private:
    std::string _path;
    std::unique_ptr<mpic::lab::lab> _lab;
    static inline mpic::lab::lab* _current = nullptr;
};

} // namespace mpic::lab
