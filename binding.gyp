{
  "variables": {
    "werror%": "false"
  },
  "targets": [
    {
      "target_name": "sigkit",
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags": ["-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc": ["-Wall", "-Wextra", "-fvisibility=hidden", "-std=c++17"],
      "conditions": [
        ["werror=='true'", {
          "cflags": ["-Werror"],
          "cflags_cc": ["-Werror"]
        }],
        ["OS=='linux'", {
          "sources": [
            "native/binding.cc",
            "native/kill.cc",
            "native/proc.cc",
            "native/proc_parse.cc",
            "native/sigaction.cc",
            "native/loop_resources.cc",
            "native/pidfd.cc",
            "native/ports.cc",
            "native/wait.cc",
            "native/ptrace.cc",
            "native/spawn.cc"
          ],
          "defines": ["SIGKIT_LINUX=1", "_GNU_SOURCE"]
        }, {
          "sources": ["native/unsupported.cc"]
        }]
      ]
    },
    {
      "target_name": "sigkit-exec",
      "type": "executable",
      "cflags": ["-Wall", "-Wextra", "-std=gnu11"],
      "conditions": [
        ["werror=='true'", {
          "cflags": ["-Werror"]
        }],
        ["OS=='linux'", {
          "sources": ["native/exec_helper.c"]
        }, {
          "type": "none"
        }]
      ]
    }
  ]
}
