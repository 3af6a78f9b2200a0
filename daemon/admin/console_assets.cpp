#include <string>

#include "admin/api.hpp"
#include "web/assets.hpp"

namespace crisisd::admin {

std::vector<asset> console_assets() {
    // Paths live as long as the program: the embedded files never change.
    static const std::vector<std::string> paths = [] {
        std::vector<std::string> p;
        for (const auto& f : web::embedded_files()) p.push_back(f.name == "index.html" ? "/" : "/" + std::string(f.name));
        return p;
    }();
    std::vector<asset> out;
    const auto& files = web::embedded_files();
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto& f = files[i];
        std::string_view type = "application/octet-stream";
        if (f.name.ends_with(".html")) type = "text/html; charset=utf-8";
        else if (f.name.ends_with(".js")) type = "text/javascript; charset=utf-8";
        else if (f.name.ends_with(".css")) type = "text/css; charset=utf-8";
        out.push_back({paths[i], type, f.data});
    }
    return out;
}

}  // namespace crisisd::admin
