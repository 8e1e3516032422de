//! Where an export's files live, once for every vendor: the [`Store`] trait (list a folder,
//! read a small object, stream an object to disk), the local directory ([`LocalStore`]), the
//! S3-compatible backend (feature `s3`: AWS, and any vendor whose storage speaks the S3 API,
//! such as Oracle Object Storage), any `object_store` client (feature `object-store`: Azure
//! Blob Storage, Google Cloud Storage), and [`fetch_all`], which brings a delivery's files to the
//! staging directory with bounded concurrency and checks each one's size and, for gzip,
//! completeness. A vendor writes only how its remote backend is reached (credentials, endpoint, error help).
//!
//! Paths (`rel`) are relative to the store's root (`<prefix>/` in a bucket, the directory
//! locally) and use `/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::output::ProgressBar;
use crate::vendor::{BoxFuture, LocalEntry, local_entry, local_files};

#[cfg(feature = "object-store")]
pub mod object;
#[cfg(feature = "s3")]
pub mod s3;

/// What a download wrote, and what the store said the object's size was.
#[derive(Clone, Copy, Debug)]
pub struct Downloaded {
    /// Bytes written.
    pub written: u64,
    /// The size announced by the store (`Content-Length`), when it gave one.
    pub expected: Option<u64>,
}

/// A file a remote backend's [`Store::download`] streams an object into: every chunk is
/// written, counted on the progress bar and followed by the fault point `download` (where a
/// crash test cuts a download), the same for every backend.
pub struct DownloadFile<'a> {
    file: tokio::fs::File,
    dest: &'a Path,
    bar: &'a ProgressBar,
    written: u64,
}

impl<'a> DownloadFile<'a> {
    /// Creates `dest`.
    pub async fn create(dest: &'a Path, bar: &'a ProgressBar) -> Result<Self, Error> {
        let file = tokio::fs::File::create(dest)
            .await
            .map_err(Error::io("writing", dest))?;
        Ok(Self {
            file,
            dest,
            bar,
            written: 0,
        })
    }

    /// Appends one chunk of the object.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), Error> {
        use tokio::io::AsyncWriteExt;
        self.file
            .write_all(chunk)
            .await
            .map_err(Error::io("writing", self.dest))?;
        self.written += chunk.len() as u64;
        self.bar.inc(chunk.len() as u64);
        crate::fault::point("download");
        Ok(())
    }

    /// Flushes the file; `expected` is the size the store announced, for [`fetch_all`]'s
    /// check.
    pub async fn finish(mut self, expected: Option<u64>) -> Result<Downloaded, Error> {
        use tokio::io::AsyncWriteExt;
        self.file
            .flush()
            .await
            .map_err(Error::io("writing", self.dest))?;
        Ok(Downloaded {
            written: self.written,
            expected,
        })
    }
}

/// An export's storage.
pub trait Store: Send + Sync {
    /// `rel` as the user knows it (`s3://bucket/prefix/rel`, `azure://…`, a local path).
    fn describe(&self, rel: &str) -> String;

    /// The prefix the store is rooted at inside its bucket (`p/` or empty; empty locally).
    fn prefix(&self) -> &str;

    /// What to do when a file a manifest names is missing (the vendor's words).
    fn missing_help(&self) -> &str;

    /// The names of the folders directly under `rel` (`""` is the root; otherwise `rel` ends
    /// with `/`), sorted.
    fn list_dirs<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Vec<String>>>;

    /// Every file under `rel`, recursively: path relative to the root → size.
    fn list_files<'a>(
        &'a self,
        rel: &'a str,
    ) -> BoxFuture<'a, miette::Result<BTreeMap<String, u64>>>;

    /// A small object (a manifest), whole; `None` when it does not exist.
    fn read_small<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>>;

    /// Streams the object `rel` to the file `dest`, memory flat.
    fn download<'a>(
        &'a self,
        rel: &'a str,
        dest: &'a Path,
        bar: &'a ProgressBar,
    ) -> BoxFuture<'a, miette::Result<Downloaded>>;

    /// The file itself when the store is a local directory (read in place, not copied).
    fn local_file(&self, rel: &str) -> Option<PathBuf> {
        let _ = rel;
        None
    }
}

/// Largest object [`Store::read_small`] reads into memory.
pub const MAX_SMALL_OBJECT: u64 = 64 << 20;

/// A local copy of an export tree. Symbolic links are followed while they stay inside it
/// ([`crate::vendor::local_entry`]).
#[derive(Clone, Debug)]
pub struct LocalStore {
    dir: PathBuf,
    directory_help: &'static str,
    missing_help: &'static str,
}

impl LocalStore {
    /// The directory `dir`. `directory_help` says what the directory should be (when it does
    /// not exist), `missing_help` what to do about a file a manifest names that is missing.
    pub fn new(
        dir: impl Into<PathBuf>,
        directory_help: &'static str,
        missing_help: &'static str,
    ) -> Self {
        Self {
            dir: dir.into(),
            directory_help,
            missing_help,
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// [`Error::NoLocalDirectory`] unless the directory exists.
    fn check_dir(&self) -> crate::Result<()> {
        if self.dir.is_dir() {
            Ok(())
        } else {
            Err(Error::NoLocalDirectory {
                path: self.dir.clone(),
                is_file: self.dir.is_file(),
                help: self.directory_help.to_owned(),
            })
        }
    }
}

impl Store for LocalStore {
    fn describe(&self, rel: &str) -> String {
        self.dir.join(rel).display().to_string()
    }

    fn prefix(&self) -> &'static str {
        ""
    }

    fn missing_help(&self) -> &str {
        self.missing_help
    }

    fn list_dirs<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Vec<String>>> {
        Box::pin(async move {
            self.check_dir()?;
            let Ok(entries) = std::fs::read_dir(self.dir.join(rel)) else {
                return Ok(Vec::new());
            };
            let mut out: Vec<String> = entries
                .filter_map(std::result::Result::ok)
                .filter(|e| matches!(local_entry(&self.dir, &e.path()), LocalEntry::Dir(_)))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect();
            out.sort();
            Ok(out)
        })
    }

    fn list_files<'a>(
        &'a self,
        rel: &'a str,
    ) -> BoxFuture<'a, miette::Result<BTreeMap<String, u64>>> {
        Box::pin(async move {
            self.check_dir()?;
            Ok(local_files(&self.dir.join(rel), &self.dir)
                .into_iter()
                .map(|(k, v)| (format!("{rel}{k}"), v))
                .collect())
        })
    }

    fn read_small<'a>(&'a self, rel: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>> {
        Box::pin(async move {
            let path = self.dir.join(rel);
            match std::fs::read(&path) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(Error::io("reading", &path)(source).into()),
            }
        })
    }

    fn download<'a>(
        &'a self,
        rel: &'a str,
        dest: &'a Path,
        bar: &'a ProgressBar,
    ) -> BoxFuture<'a, miette::Result<Downloaded>> {
        Box::pin(async move {
            let from = self.dir.join(rel);
            let written = std::fs::copy(&from, dest).map_err(Error::io("copying", &from))?;
            bar.inc(written);
            Ok(Downloaded {
                written,
                expected: None,
            })
        })
    }

    fn local_file(&self, rel: &str) -> Option<PathBuf> {
        Some(self.dir.join(rel))
    }
}

/// [`fetch_all`] for the files `rels` of `delivery`, with a progress bar labelled `label`
/// (`<export> <period>`); returns the local paths, in order, and the bytes fetched.
pub async fn fetch_delivery(
    store: &dyn Store,
    delivery: &crate::vendor::Delivery,
    rels: &[String],
    dir: &Path,
    concurrency: usize,
    ui: &crate::output::Ui,
    label: String,
) -> miette::Result<(Vec<PathBuf>, u64)> {
    let bar = ui.bytes_bar(delivery.bytes(), label);
    let fetched = fetch_all(store, rels, dir, concurrency, &bar).await?;
    bar.finish_and_clear();
    let bytes = fetched.iter().map(|(_, s)| s).sum();
    Ok((fetched.into_iter().map(|(p, _)| p).collect(), bytes))
}

/// Brings the files `rels` of one delivery to `dir` (or finds them in place, locally),
/// `concurrency` at a time; checks each one's size against what the store announced and
/// that each `.gz` file decodes completely (DuckDB reads a truncated gzip without a word).
/// Returns each file's local path and size, in order.
pub async fn fetch_all(
    store: &dyn Store,
    rels: &[String],
    dir: &Path,
    concurrency: usize,
    bar: &ProgressBar,
) -> miette::Result<Vec<(PathBuf, u64)>> {
    use futures_util::{StreamExt, TryStreamExt, stream};
    // Owned paths: a closure over `&String` makes the future not general enough to be
    // `Send` behind a `BoxFuture`.
    stream::iter(
        rels.iter()
            .cloned()
            .map(|rel| async move { fetch_one(store, &rel, dir, bar).await }),
    )
    .buffered(concurrency.max(1))
    .try_collect()
    .await
}

async fn fetch_one(
    store: &dyn Store,
    rel: &str,
    dir: &Path,
    bar: &ProgressBar,
) -> miette::Result<(PathBuf, u64)> {
    let missing = || Error::MissingDataFile {
        key: store.describe(rel),
        help: store.missing_help().to_owned(),
    };
    let (path, size) = if let Some(path) = store.local_file(rel) {
        let meta = std::fs::metadata(&path).map_err(|_| missing())?;
        if !meta.is_file() {
            return Err(missing().into());
        }
        bar.inc(meta.len());
        // Where a remote download would be cut, for the crash tests of local copies too.
        crate::fault::point("download");
        (path, meta.len())
    } else {
        let dest = dir.join(rel.replace('/', "__"));
        let got = store.download(rel, &dest, bar).await?;
        if let Some(expected) = got.expected.filter(|e| *e != got.written) {
            return Err(Error::SizeMismatch {
                key: store.describe(rel),
                expected,
                actual: got.written,
            }
            .into());
        }
        (dest, got.written)
    };
    if crate::read::is_gzip(Path::new(rel)) {
        let (p, key) = (path.clone(), store.describe(rel));
        tokio::task::spawn_blocking(move || crate::read::verify_gzip(&p, &key))
            .await
            .map_err(|e| Error::io("verifying", &path)(std::io::Error::other(e)))??;
    }
    Ok((path, size))
}

/// An error and its sources on one line.
pub fn source_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cur = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("r/20240101-20240201")).unwrap();
        std::fs::create_dir_all(t.path().join("q")).unwrap();
        std::fs::write(t.path().join("r/20240101-20240201/m.json"), b"{}").unwrap();
        std::fs::write(t.path().join("r/20240101-20240201/a.csv"), b"a\n1\n").unwrap();
        t
    }

    #[test]
    fn local_lists_reads_and_finds_in_place() {
        let t = tree();
        let store = LocalStore::new(t.path(), "dir help", "missing help");
        block_on(async {
            assert_eq!(store.list_dirs("").await.unwrap(), ["q", "r"]);
            assert_eq!(store.list_dirs("r/").await.unwrap(), ["20240101-20240201"]);
            let files = store.list_files("r/").await.unwrap();
            assert_eq!(
                files.into_iter().collect::<Vec<_>>(),
                [
                    ("r/20240101-20240201/a.csv".to_owned(), 4),
                    ("r/20240101-20240201/m.json".to_owned(), 2)
                ]
            );
            assert_eq!(
                store
                    .read_small("r/20240101-20240201/m.json")
                    .await
                    .unwrap(),
                Some(b"{}".to_vec())
            );
            assert_eq!(store.read_small("r/nope.json").await.unwrap(), None);
            let bar = ProgressBar::hidden();
            let got = fetch_all(
                &store,
                &["r/20240101-20240201/a.csv".to_owned()],
                Path::new("/nonexistent"),
                4,
                &bar,
            )
            .await
            .unwrap();
            assert_eq!(got, [(t.path().join("r/20240101-20240201/a.csv"), 4)]);
        });
    }

    #[test]
    fn local_errors_name_the_path_and_say_what_to_do() {
        let t = tree();
        let store = LocalStore::new(t.path(), "dir help", "missing help");
        let bar = ProgressBar::hidden();
        let err = block_on(fetch_all(
            &store,
            &["r/20240101-20240201/gone.csv".to_owned()],
            t.path(),
            1,
            &bar,
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "data file `{}` named by the manifest is missing",
                t.path().join("r/20240101-20240201/gone.csv").display()
            )
        );
        assert_eq!(err.help().unwrap().to_string(), "missing help");

        let file = LocalStore::new(
            t.path().join("q/../r/20240101-20240201/a.csv"),
            "dir help",
            "",
        );
        let err = block_on(file.list_dirs("")).unwrap_err();
        assert!(
            err.to_string().ends_with("is a file, not a directory"),
            "{err}"
        );
        assert_eq!(err.help().unwrap().to_string(), "dir help");
        let none = LocalStore::new(t.path().join("absent"), "dir help", "");
        let err = block_on(none.list_files("")).unwrap_err();
        assert!(err.to_string().ends_with("does not exist"), "{err}");
    }

    /// A store whose downloads are cut short, or deliver a truncated gzip.
    struct Short;

    impl Store for Short {
        fn describe(&self, rel: &str) -> String {
            format!("mem://{rel}")
        }
        fn prefix(&self) -> &'static str {
            ""
        }
        fn missing_help(&self) -> &'static str {
            ""
        }
        fn list_dirs<'a>(&'a self, _: &'a str) -> BoxFuture<'a, miette::Result<Vec<String>>> {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn list_files<'a>(
            &'a self,
            _: &'a str,
        ) -> BoxFuture<'a, miette::Result<BTreeMap<String, u64>>> {
            Box::pin(async { Ok(BTreeMap::new()) })
        }
        fn read_small<'a>(&'a self, _: &'a str) -> BoxFuture<'a, miette::Result<Option<Vec<u8>>>> {
            Box::pin(async { Ok(None) })
        }
        fn download<'a>(
            &'a self,
            rel: &'a str,
            dest: &'a Path,
            _: &'a ProgressBar,
        ) -> BoxFuture<'a, miette::Result<Downloaded>> {
            Box::pin(async move {
                let gz_file = rel.to_ascii_lowercase().ends_with(".gz");
                let bytes: Vec<u8> = if gz_file {
                    use std::io::Write;
                    let mut gz =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    gz.write_all(&[b'x'; 10_000]).unwrap();
                    let full = gz.finish().unwrap();
                    full[..full.len() / 2].to_vec()
                } else {
                    b"abc".to_vec()
                };
                std::fs::write(dest, &bytes).unwrap();
                Ok(Downloaded {
                    written: bytes.len() as u64,
                    expected: (!gz_file).then_some(10),
                })
            })
        }
    }

    #[test]
    fn short_downloads_and_truncated_gzip_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let bar = ProgressBar::hidden();
        let err = block_on(fetch_all(&Short, &["a/b.csv".into()], t.path(), 2, &bar)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`mem://a/b.csv` downloaded 3 bytes, expected 10"
        );
        let err =
            block_on(fetch_all(&Short, &["a/b.csv.gz".into()], t.path(), 2, &bar)).unwrap_err();
        assert!(err.to_string().contains("mem://a/b.csv.gz"), "{err}");
        assert!(matches!(
            err.downcast_ref::<Error>(),
            Some(Error::CorruptGzip { .. })
        ));
    }
}
