{
  "targets": [
    {
      "target_name": "skiff_native",
      "sources": ["skiff_native.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-O2", "-fvisibility=hidden"],
      "cflags!": ["-fno-exceptions"],
      "ldflags": ["-s"]
    }
  ]
}
