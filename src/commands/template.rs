//! `lppg template --out DIR`: the rendered template and the function's zip, for a team's own pipeline.
use crate::cli::TemplateArgs;
use crate::files::write_new_file;
use crate::ui::Output;
use anyhow::{Context, Result};

pub fn exec(a: &TemplateArgs, out: &Output) -> Result<crate::exit::ExitStatus> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let template = crate::assets::render_template()?;
    let forwarder = crate::assets::render_forwarder()?;
    let zip = crate::assets::function_zip()?;
    let t = a.out.join("template.yaml");
    let f = a.out.join("forwarder.yaml");
    let z = a.out.join("function.zip");
    for p in [&t, &f, &z] {
        if p.exists() && !a.force {
            anyhow::bail!("{} already exists: pass --force to overwrite", p.display());
        }
    }
    write_new_file(&t, &template, a.force)?;
    write_new_file(&f, &forwarder, a.force)?;
    std::fs::write(&z, &zip).with_context(|| format!("writing {}", z.display()))?;
    out.ok(&format!("wrote {} and {}", t.display(), z.display()));
    out.info(&format!(
        "upload function.zip to a bucket, then deploy template.yaml with parameters CodeBucket=<bucket> \
         CodeKey=<key> and capability CAPABILITY_NAMED_IAM (suggested key: {}); forwarder.yaml forwards another \
         region's denied calls to it (the fast path)",
        crate::assets::function_key(&zip)
    ));
    Ok(crate::exit::OK)
}
