// RFC 8659 §4.2 issue-value grammar and RFC 8657 §4 validationmethods grammar: good values, every malformed shape
// we could think of, and the issuer matching rule of standards §7.3.

#include <gtest/gtest.h>

#include "validators/dns/caa_value.hh"

namespace mpic::validators {
namespace {

TEST(CaaValue, IssuerOnly) {
    const auto v = parse_issue_value("ca.example");
    EXPECT_TRUE(v.well_formed);
    EXPECT_EQ(v.issuer_domain, "ca.example");
    EXPECT_TRUE(v.parameters.empty());
}

TEST(CaaValue, LeadingAndTrailingWspAroundIssuer) {
    const auto v = parse_issue_value(" \t ca.example \t");
    EXPECT_TRUE(v.well_formed);
    EXPECT_EQ(v.issuer_domain, "ca.example");
}

TEST(CaaValue, EmptyValueIsWellFormedAndNamesNoIssuer) {
    const auto v = parse_issue_value("");
    EXPECT_TRUE(v.well_formed);
    EXPECT_TRUE(v.issuer_domain.empty());
}

TEST(CaaValue, SemicolonAloneForbids) { // standards §6 C3 at the grammar level
    const auto v = parse_issue_value(";");
    EXPECT_TRUE(v.well_formed);
    EXPECT_TRUE(v.issuer_domain.empty());
    EXPECT_TRUE(v.parameters.empty());
}

TEST(CaaValue, PercentSignsAreMalformed) { // standards §6 C4 at the grammar level
    const auto v = parse_issue_value("%%%%%");
    EXPECT_FALSE(v.well_formed);
    EXPECT_TRUE(v.issuer_domain.empty());
}

TEST(CaaValue, IssuerWithParameters) {
    const auto v = parse_issue_value("ca.example; accounturi=https://ca.example/acct/1 ;validationmethods=dns-01");
    ASSERT_TRUE(v.well_formed);
    EXPECT_EQ(v.issuer_domain, "ca.example");
    ASSERT_EQ(v.parameters.size(), 2U);
    EXPECT_EQ(v.parameters[0], (caa_parameter{"accounturi", "https://ca.example/acct/1"}));
    EXPECT_EQ(v.parameters[1], (caa_parameter{"validationmethods", "dns-01"}));
}

TEST(CaaValue, WspAroundEqualsSign) {
    const auto v = parse_issue_value("ca.example;a \t= \tb");
    ASSERT_TRUE(v.well_formed);
    ASSERT_EQ(v.parameters.size(), 1U);
    EXPECT_EQ(v.parameters[0], (caa_parameter{"a", "b"}));
}

TEST(CaaValue, EmptyParameterValueIsAllowed) {
    const auto v = parse_issue_value("ca.example; a=");
    ASSERT_TRUE(v.well_formed);
    ASSERT_EQ(v.parameters.size(), 1U);
    EXPECT_EQ(v.parameters[0].value, "");
}

TEST(CaaValue, ParametersWithoutIssuer) {
    const auto v = parse_issue_value("; accounturi=x");
    ASSERT_TRUE(v.well_formed);
    EXPECT_TRUE(v.issuer_domain.empty());
    EXPECT_EQ(v.parameters.size(), 1U);
}

TEST(CaaValue, TrailingSemicolonAfterIssuerIsAllowed) {
    const auto v = parse_issue_value("ca.example;  ");
    EXPECT_TRUE(v.well_formed);
    EXPECT_EQ(v.issuer_domain, "ca.example");
}

TEST(CaaValue, TrailingSemicolonAfterParameterIsMalformed) {
    // parameters = (parameter *WSP ";" *WSP parameters) / parameter: a ";" must be followed by a parameter.
    EXPECT_FALSE(parse_issue_value("ca.example; a=b;").well_formed);
    EXPECT_FALSE(parse_issue_value("ca.example; a=b ; ").well_formed);
}

TEST(CaaValue, MalformedValueDropsIssuerAndParameters) {
    const auto v = parse_issue_value("ca.example; a=b; =c");
    EXPECT_FALSE(v.well_formed);
    EXPECT_TRUE(v.issuer_domain.empty());
    EXPECT_TRUE(v.parameters.empty());
}

TEST(CaaValue, LabelShapes) {
    EXPECT_TRUE(parse_issue_value("a-b.c--d.example").well_formed);
    EXPECT_TRUE(parse_issue_value("1ca.example").well_formed);
    EXPECT_FALSE(parse_issue_value("-ca.example").well_formed);
    EXPECT_FALSE(parse_issue_value("ca-.example").well_formed);
    EXPECT_FALSE(parse_issue_value("ca..example").well_formed);
    EXPECT_FALSE(parse_issue_value(".ca.example").well_formed);
    EXPECT_FALSE(parse_issue_value("ca_x.example").well_formed);
    EXPECT_FALSE(parse_issue_value("ca.example..").well_formed);
    EXPECT_FALSE(parse_issue_value("*.ca.example").well_formed);
}

TEST(CaaValue, OneTrailingDotOnIssuerIsDropped) { // standards §7.3 leniency
    const auto v = parse_issue_value("ca.example.; a=b");
    ASSERT_TRUE(v.well_formed);
    EXPECT_EQ(v.issuer_domain, "ca.example");
}

TEST(CaaValue, OnlySpaceAndTabAreWsp) {
    EXPECT_FALSE(parse_issue_value("ca.example\n").well_formed);
    EXPECT_FALSE(parse_issue_value("\rca.example").well_formed);
    EXPECT_FALSE(parse_issue_value("ca.example;\va=b").well_formed);
    EXPECT_FALSE(parse_issue_value(std::string_view("ca.example\0", 11)).well_formed);
}

TEST(CaaValue, JunkAfterIssuerIsMalformed) {
    EXPECT_FALSE(parse_issue_value("ca.example extra").well_formed);
    EXPECT_FALSE(parse_issue_value("ca.example/x").well_formed);
}

TEST(CaaValue, ParameterTagGrammar) {
    EXPECT_TRUE(parse_issue_value("ca; a-b=c").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; -a=c").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; a-=c").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; a_b=c").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; a").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; a b=c").well_formed);
}

TEST(CaaValue, ParameterValueCharset) {
    // %x21-3A / %x3C-7E: '=' and ':' are fine, ';' ends the value, space ends it, non-ASCII is malformed.
    const auto v = parse_issue_value("ca; a=x=y:z/?#");
    ASSERT_TRUE(v.well_formed);
    EXPECT_EQ(v.parameters[0].value, "x=y:z/?#");
    EXPECT_FALSE(parse_issue_value("ca; a=x y").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; a=caf\xc3\xa9").well_formed);
    EXPECT_FALSE(parse_issue_value("ca; a=\x7f").well_formed);
}

TEST(CaaValue, NonAsciiIssuerIsMalformed) {
    EXPECT_FALSE(parse_issue_value("b\xc3\xbc"
                                   "cher.example")
                     .well_formed);
    EXPECT_FALSE(parse_issue_value("\xff").well_formed);
}

TEST(CaaValue, ParameterValuesLookupIsCaseInsensitiveOnTag) {
    const auto v = parse_issue_value("ca; AccountURI=a; accounturi=b; other=c");
    ASSERT_TRUE(v.well_formed);
    const auto values = v.parameter_values("accounturi");
    ASSERT_EQ(values.size(), 2U);
    EXPECT_EQ(values[0], "a");
    EXPECT_EQ(values[1], "b");
}

TEST(CaaValue, IssuerMatchingIsCaseAndTrailingDotInsensitive) { // standards §6 C35, §7.3
    EXPECT_TRUE(caa_issuer_matches("OurCA.Example", "ourca.example"));
    EXPECT_TRUE(caa_issuer_matches("ourca.example.", "ourca.example"));
    EXPECT_TRUE(caa_issuer_matches("ourca.example", "OURCA.example."));
    EXPECT_FALSE(caa_issuer_matches("ourca.example.com", "ourca.example"));
    EXPECT_FALSE(caa_issuer_matches("sub.ourca.example", "ourca.example"));
    EXPECT_FALSE(caa_issuer_matches("", ""));
    EXPECT_FALSE(caa_issuer_matches(".", ""));
}

TEST(CaaValue, IsCaaLabel) {
    EXPECT_TRUE(is_caa_label("a"));
    EXPECT_TRUE(is_caa_label("a--b"));
    EXPECT_FALSE(is_caa_label(""));
    EXPECT_FALSE(is_caa_label("a-"));
    EXPECT_FALSE(is_caa_label("a.b"));
}

TEST(CaaValue, ValidationMethodsGrammar) { // RFC 8657 §4 ABNF
    auto labels = parse_validation_methods("http-01,dns-01,ca-custom");
    ASSERT_TRUE(labels);
    ASSERT_EQ(labels->size(), 3U);
    EXPECT_EQ((*labels)[2], "ca-custom");
    labels = parse_validation_methods("");
    ASSERT_TRUE(labels);
    EXPECT_TRUE(labels->empty());
    EXPECT_FALSE(parse_validation_methods(",dns-01"));
    EXPECT_FALSE(parse_validation_methods("dns-01,"));
    EXPECT_FALSE(parse_validation_methods("dns-01,,http-01"));
    EXPECT_FALSE(parse_validation_methods("dns-01, http-01"));
    EXPECT_FALSE(parse_validation_methods("dns_01"));
}

} // namespace
} // namespace mpic::validators
