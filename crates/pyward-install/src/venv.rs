//! Creating virtual environments natively (no `python -m venv`): the
//! layout, `pyvenv.cfg`, interpreter links and activation scripts for
//! bash/zsh, fish and csh.

use std::path::{Path, PathBuf};

use pyward_dist::InterpreterInfo;

use crate::error::{io_err, InstallError, Result};

/// How to create a virtual environment.
#[derive(Debug, Clone, Default)]
pub struct VenvOptions {
    /// Shown in the shell prompt; defaults to the directory name.
    pub prompt: Option<String>,
    /// Empty the directory first (required when it exists, is not empty
    /// and is not a virtual environment).
    pub clear: bool,
    /// Let the environment see the base interpreter's packages.
    pub system_site_packages: bool,
    /// Recorded as `command` in `pyvenv.cfg` (the command that created it).
    pub command: Option<String>,
}

/// Create (or refresh) a virtual environment at `path` for the interpreter
/// `base` describes. An existing environment keeps its installed packages
/// unless `clear` is set.
pub fn create_venv(path: &Path, base: &InterpreterInfo, options: &VenvOptions) -> Result<()> {
    if cfg!(windows) {
        return Err(InstallError::InvalidVenvTarget {
            path: path.to_path_buf(),
            reason: "creating virtual environments on Windows is not supported yet".to_string(),
        });
    }
    let root = std::path::absolute(path).map_err(io_err("could not resolve", path))?;
    prepare_target(&root, options.clear)?;

    let exe = &base.base_executable;
    let home = exe
        .parent()
        .ok_or_else(|| InstallError::InvalidVenvTarget {
            path: root.clone(),
            reason: format!("the interpreter path {} has no directory", exe.display()),
        })?;
    let (major, minor, micro) = base.version;
    let thread = if base.gil_disabled { "t" } else { "" };
    let prompt = options.prompt.clone().unwrap_or_else(|| {
        root.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "venv".to_string())
    });

    let bin = root.join("bin");
    let site_packages = root
        .join("lib")
        .join(format!("python{major}.{minor}{thread}"))
        .join("site-packages");
    std::fs::create_dir_all(&bin).map_err(io_err("could not create", &bin))?;
    std::fs::create_dir_all(&site_packages).map_err(io_err("could not create", &site_packages))?;
    if base.pointer_size == 8 && base.os == "linux" {
        replace_symlink(Path::new("lib"), &root.join("lib64"))?;
    }
    write(&root.join(".gitignore"), b"# Created by pyward\n*\n")?;

    let mut cfg = format!(
        "home = {}\nimplementation = {}\nversion_info = {major}.{minor}.{micro}\nversion = {major}.{minor}.{micro}\ninclude-system-site-packages = {}\nexecutable = {}\n",
        home.display(),
        implementation_name(&base.implementation),
        options.system_site_packages,
        exe.display(),
    );
    if let Some(command) = &options.command {
        cfg.push_str(&format!("command = {command}\n"));
    }
    cfg.push_str(&format!("prompt = {prompt}\n"));
    write(&root.join("pyvenv.cfg"), cfg.as_bytes())?;

    replace_symlink(exe, &bin.join("python"))?;
    let mut aliases = vec![format!("python{major}"), format!("python{major}.{minor}")];
    if base.gil_disabled {
        aliases.push(format!("python{major}.{minor}t"));
    }
    if base.implementation == "pypy" {
        aliases.push("pypy".to_string());
        aliases.push(format!("pypy{major}"));
    }
    for alias in aliases {
        replace_symlink(Path::new("python"), &bin.join(alias))?;
    }

    let root_str = root.to_string_lossy();
    let shown = format!("({prompt}) ");
    write_script(&bin.join("activate"), &activate_sh(&root_str, &shown))?;
    write_script(
        &bin.join("activate.fish"),
        &activate_fish(&root_str, &shown),
    )?;
    write_script(&bin.join("activate.csh"), &activate_csh(&root_str, &shown))?;
    Ok(())
}

fn implementation_name(implementation: &str) -> &str {
    match implementation {
        "cpython" => "CPython",
        "pypy" => "PyPy",
        "graalpy" => "GraalPy",
        other => other,
    }
}

/// Make sure `root` may become a venv: absent, empty, an existing venv, or
/// anything when `clear` is set (then it is emptied).
fn prepare_target(root: &Path, clear: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(root) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("could not inspect", root)(e)),
    };
    if !meta.is_dir() {
        return Err(InstallError::InvalidVenvTarget {
            path: root.to_path_buf(),
            reason: "it exists and is not a directory".to_string(),
        });
    }
    let mut entries = std::fs::read_dir(root).map_err(io_err("could not read", root))?;
    let empty = entries.next().is_none();
    if empty {
        return Ok(());
    }
    let is_venv = root.join("pyvenv.cfg").is_file();
    if !clear {
        if is_venv {
            return Ok(());
        }
        return Err(InstallError::InvalidVenvTarget {
            path: root.to_path_buf(),
            reason: "it is not empty and is not a virtual environment; pass --clear to empty it"
                .to_string(),
        });
    }
    for entry in std::fs::read_dir(root).map_err(io_err("could not read", root))? {
        let entry = entry.map_err(io_err("could not read", root))?;
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            std::fs::remove_dir_all(&path).map_err(io_err("could not remove", &path))?;
        } else {
            std::fs::remove_file(&path).map_err(io_err("could not remove", &path))?;
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(io_err("could not write", path))
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    write(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(io_err("could not set permissions of", path))?;
    }
    Ok(())
}

fn replace_symlink(target: &Path, link: &Path) -> Result<()> {
    match std::fs::symlink_metadata(link) {
        Ok(_) => std::fs::remove_file(link).map_err(io_err("could not replace", link))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("could not inspect", link)(e)),
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, link).map_err(io_err("could not create link", link))
    }
    #[cfg(not(unix))]
    {
        let _ = target;
        Err(io_err("could not create link", PathBuf::from(link))(
            std::io::Error::other("unsupported platform"),
        ))
    }
}

/// Single-quote for POSIX sh (and csh, which accepts the same trick).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Single-quote for fish.
fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn activate_sh(root: &str, prompt: &str) -> String {
    format!(
        r#"# Source this file from bash or zsh: `source bin/activate`. Run `deactivate` to leave.

deactivate () {{
    if [ -n "${{_OLD_VIRTUAL_PATH+set}}" ]; then
        PATH="$_OLD_VIRTUAL_PATH"
        export PATH
        unset _OLD_VIRTUAL_PATH
    fi
    if [ -n "${{_OLD_VIRTUAL_PYTHONHOME+set}}" ]; then
        PYTHONHOME="$_OLD_VIRTUAL_PYTHONHOME"
        export PYTHONHOME
        unset _OLD_VIRTUAL_PYTHONHOME
    fi
    if [ -n "${{_OLD_VIRTUAL_PS1+set}}" ]; then
        PS1="$_OLD_VIRTUAL_PS1"
        export PS1
        unset _OLD_VIRTUAL_PS1
    fi
    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT
    hash -r 2>/dev/null
    if [ "${{1:-}}" != "nondestructive" ]; then
        unset -f deactivate
    fi
}}

deactivate nondestructive

VIRTUAL_ENV={root}
export VIRTUAL_ENV
VIRTUAL_ENV_PROMPT={prompt}
export VIRTUAL_ENV_PROMPT

_OLD_VIRTUAL_PATH="$PATH"
PATH="$VIRTUAL_ENV/bin:$PATH"
export PATH

if [ -n "${{PYTHONHOME+set}}" ]; then
    _OLD_VIRTUAL_PYTHONHOME="$PYTHONHOME"
    unset PYTHONHOME
fi

if [ -z "${{VIRTUAL_ENV_DISABLE_PROMPT:-}}" ]; then
    _OLD_VIRTUAL_PS1="${{PS1:-}}"
    PS1="$VIRTUAL_ENV_PROMPT${{PS1:-}}"
    export PS1
fi

hash -r 2>/dev/null
"#,
        root = sh_quote(root),
        prompt = sh_quote(prompt),
    )
}

fn activate_fish(root: &str, prompt: &str) -> String {
    format!(
        r#"# Source this file from fish: `source bin/activate.fish`. Run `deactivate` to leave.

function deactivate -d "Leave the virtual environment"
    if set -q _OLD_VIRTUAL_PATH
        set -gx PATH $_OLD_VIRTUAL_PATH
        set -e _OLD_VIRTUAL_PATH
    end
    if set -q _OLD_VIRTUAL_PYTHONHOME
        set -gx PYTHONHOME $_OLD_VIRTUAL_PYTHONHOME
        set -e _OLD_VIRTUAL_PYTHONHOME
    end
    if set -q _OLD_FISH_PROMPT_OVERRIDE
        set -e _OLD_FISH_PROMPT_OVERRIDE
        if functions -q _old_fish_prompt
            functions -e fish_prompt
            functions -c _old_fish_prompt fish_prompt
            functions -e _old_fish_prompt
        end
    end
    set -e VIRTUAL_ENV
    set -e VIRTUAL_ENV_PROMPT
    if test "$argv[1]" != "nondestructive"
        functions -e deactivate
    end
end

deactivate nondestructive

set -gx VIRTUAL_ENV {root}
set -gx VIRTUAL_ENV_PROMPT {prompt}
set -gx _OLD_VIRTUAL_PATH $PATH
set -gx PATH "$VIRTUAL_ENV/bin" $PATH

if set -q PYTHONHOME
    set -gx _OLD_VIRTUAL_PYTHONHOME $PYTHONHOME
    set -e PYTHONHOME
end

if test -z "$VIRTUAL_ENV_DISABLE_PROMPT"
    functions -c fish_prompt _old_fish_prompt
    function fish_prompt
        set -l old_status $status
        printf "%s" "$VIRTUAL_ENV_PROMPT"
        echo "exit $old_status" | .
        _old_fish_prompt
    end
    set -gx _OLD_FISH_PROMPT_OVERRIDE "$VIRTUAL_ENV"
end
"#,
        root = fish_quote(root),
        prompt = fish_quote(prompt),
    )
}

fn activate_csh(root: &str, prompt: &str) -> String {
    format!(
        r#"# Source this file from csh or tcsh: `source bin/activate.csh`. Run `deactivate` to leave.

alias deactivate 'test $?_OLD_VIRTUAL_PATH != 0 && setenv PATH "$_OLD_VIRTUAL_PATH" && unset _OLD_VIRTUAL_PATH; rehash; test $?_OLD_VIRTUAL_PROMPT != 0 && set prompt="$_OLD_VIRTUAL_PROMPT" && unset _OLD_VIRTUAL_PROMPT; unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; test "\!:*" != "nondestructive" && unalias deactivate'

deactivate nondestructive

setenv VIRTUAL_ENV {root}
setenv VIRTUAL_ENV_PROMPT {prompt}

set _OLD_VIRTUAL_PATH="$PATH:q"
setenv PATH "$VIRTUAL_ENV:q/bin:$PATH:q"

if ( $?prompt ) then
    set _OLD_VIRTUAL_PROMPT="$prompt:q"
    if ( ! $?VIRTUAL_ENV_DISABLE_PROMPT ) then
        set prompt = "$VIRTUAL_ENV_PROMPT:q$prompt:q"
    endif
endif

rehash
"#,
        root = sh_quote(root),
        prompt = sh_quote(prompt),
    )
}

/// The path of the interpreter inside a venv created at `root`.
pub fn venv_python(root: &Path) -> PathBuf {
    if cfg!(windows) {
        root.join("Scripts").join("python.exe")
    } else {
        root.join("bin").join("python")
    }
}
