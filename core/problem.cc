#include "core/problem.hh"

namespace mpic {

std::string_view to_string(problem_component component) noexcept {
    switch (component) {
    case problem_component::caa_checker: return "caa_checker";
    case problem_component::dcv_checker: return "dcv_checker";
    case problem_component::coordinator: return "coordinator";
    case problem_component::http: return "http";
    case problem_component::redirect: return "redirect";
    }
    return "unknown";
}

problem problem::make(problem_component component, std::string_view kind, std::string message) {
    std::string type = "mpic_error:";
    type += to_string(component);
    if (!kind.empty()) {
        type += ':';
        type += kind;
    }
    return problem{std::move(type), std::move(message)};
}

problem problem::from_error(problem_component component, std::string_view kind, std::string_view context,
                            std::error_code ec) {
    std::string message(context);
    if (!message.empty()) {
        message += ": ";
    }
    message += ec.message();
    return make(component, kind, std::move(message));
}

} // namespace mpic
