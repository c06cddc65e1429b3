//! Dump the VAD's per-frame features of every scenario of a corpus folder,
//! one CSV per scenario, for `scripts/train_vad.py`:
//!
//! ```text
//! cargo run --example vad_features -- CORPUS_DIR OUT_DIR
//! ```
//!
//! Columns: frame end time (ms), the features of
//! [`ratiba::core::vad::FrameFeatures`], and the detector's own decisions.

use ratiba::core::audio::wav;
use ratiba::core::vad::{SpectralVad, VadConfig};
use std::io::Write;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let corpus = PathBuf::from(
        args.first()
            .map(String::as_str)
            .unwrap_or("fixtures/corpus"),
    );
    let out = PathBuf::from(
        args.get(1)
            .map(String::as_str)
            .unwrap_or("target/vad_features"),
    );
    std::fs::create_dir_all(&out)?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&corpus)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    paths.sort();
    for p in &paths {
        let id = p.file_stem().unwrap().to_string_lossy().to_string();
        let audio = wav::parse(&std::fs::read(p)?)?;
        let mut vad = SpectralVad::new(audio.rate_hz, VadConfig::default());
        let frame = (audio.rate_hz / 50) as usize;
        let mut f = std::io::BufWriter::new(std::fs::File::create(out.join(format!("{id}.csv")))?);
        writeln!(
            f,
            "t_ms,level_db,floor_db,snr_db,voicing,pitch_hz,zc_hz,acf1,acf2,acf3,acf4,tonality_db,shape_change,pitch_acf_change,p_speech,active,voiced,speech{}",
            (0..19).map(|i| format!(",x{i}")).collect::<String>()
        )?;
        for (k, chunk) in audio.samples.chunks(frame).enumerate() {
            if chunk.len() < frame {
                break;
            }
            let start = k as i64 * 20;
            let v = vad.process(chunk, start);
            let x = v.features;
            write!(
                f,
                "{},{:.2},{:.2},{:.2},{:.3},{:.1},{:.0},{:.4},{:.4},{:.4},{:.4},{:.2},{:.4},{:.4},{:.3},{},{},{}",
                start + 20,
                x.level_db,
                x.floor_db,
                x.snr_db,
                x.voicing,
                x.pitch_hz,
                x.zc_hz,
                x.acf[0],
                x.acf[1],
                x.acf[2],
                x.acf[3],
                x.tonality_db,
                x.shape_change,
                x.pitch_acf_change,
                v.p_speech,
                u8::from(v.active),
                u8::from(v.voiced),
                u8::from(v.speech)
            )?;
            for x in vad.model_inputs() {
                write!(f, ",{x:.4}")?;
            }
            writeln!(f)?;
        }
    }
    eprintln!("{} scenarios -> {}", paths.len(), out.display());
    Ok(())
}
