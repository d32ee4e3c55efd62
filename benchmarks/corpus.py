"""A seeded generator of interview corpora with planted themes, for benchmarks.

Each transcript alternates interviewer questions with participant answers.
Every participant sentence is built from one planted theme's phrases (a
subject, a predicate and an optional aside, so thousands of different
sentences come out of a few dozen phrases) or, for a share of sentences, from
general talk that belongs to no theme. ``planted.csv`` records the theme of
every participant sentence as a character span (beside the ``transcripts``
folder, not in it), so a benchmark can score how
well topics recover the planted themes.

Transcripts can be written in several formats (``formats``, taken in turn:
txt, md, vtt, srt, docx); the same seed gives the same bytes in every format.
``planted.csv`` spans are offsets into the plain-text rendering
(``Speaker: text`` turns), which is what the txt files hold. ``write_codebook``
writes a codebook for the planted themes (keywords, definitions, examples).

    python benchmarks/corpus.py OUT_DIR --transcripts 20 --words 3000 [--formats txt,md,vtt,srt,docx]
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

#: theme -> (subjects, predicates). Sentences pair a subject with a predicate of the same theme.
THEMES: dict[str, tuple[list[str], list[str]]] = {
    "transport": (
        [
            "the bus into town",
            "the last train home",
            "getting a lift from my sister",
            "the cost of petrol",
            "the bus pass they gave me",
            "the two buses to the job centre",
            "not having a car out here",
            "the rural bus route",
        ],
        [
            "only runs twice a day so I miss half my appointments",
            "costs more than I would earn in the first hour",
            "means I have to leave home at six for a nine o'clock start",
            "gets cancelled whenever the weather turns",
            "is the reason I turned down the warehouse shifts",
            "takes longer than the interview itself",
            "is fine until the timetable changes again",
            "leaves me stranded if the shift runs late",
        ],
    ),
    "childcare": (
        [
            "finding a nursery place",
            "the school run",
            "my youngest starting reception",
            "childcare over the holidays",
            "the after-school club",
            "my mum looking after the kids",
            "paying a childminder",
            "the nursery fees",
        ],
        [
            "decides which hours I can actually work",
            "eats up most of what a part-time job pays",
            "falls apart the moment one of the kids is poorly",
            "means I can only do school hours",
            "has a waiting list of nearly a year",
            "is why I left my last job in the first place",
            "only works if my partner is on days",
            "makes evening shifts impossible for me",
        ],
    ),
    "housing": (
        [
            "the hostel",
            "my landlord",
            "the damp in the flat",
            "the council waiting list",
            "sofa surfing at my mate's",
            "the temporary accommodation",
            "the eviction notice",
            "the deposit for a new place",
        ],
        [
            "makes it hard to think about anything else",
            "keeps me awake most nights worrying",
            "has moved me three times this year already",
            "means I have no fixed address to put on the form",
            "is the first thing I need sorted before work",
            "cost me a fortune I simply do not have",
            "leaves me nowhere quiet to fill in applications",
            "has been going on since the spring",
        ],
    ),
    "debt": (
        [
            "the bailiff letters",
            "my overdraft",
            "the payday loan",
            "the arrears on the gas bill",
            "the credit card debt",
            "the universal credit deductions",
            "the catalogue debt",
            "the council tax arrears",
        ],
        [
            "keeps growing however much I pay off",
            "takes a chunk out of every payment I get",
            "frightens me every time the post comes",
            "is why I cannot afford the bus fare to interviews",
            "got out of hand after I lost my job",
            "means I dread opening my bank app",
            "was finally put on a payment plan last month",
            "makes any job with a wait for the first wage too risky",
        ],
    ),
    "digital": (
        [
            "filling in forms online",
            "my phone with a cracked screen",
            "setting up an email address",
            "the online job applications",
            "using a laptop",
            "the library computers",
            "uploading my CV",
            "the video interviews",
        ],
        [
            "is something I never learned to do",
            "takes me hours and I still get it wrong",
            "only works when I can get on the free wifi",
            "locks me out every time I forget the password",
            "is where I needed the most help at the start",
            "makes me feel stupid if I am honest",
            "got easier once someone sat with me",
            "is how every employer wants you to apply now",
        ],
    ),
    "health": (
        [
            "my back problem",
            "the pain in my knees",
            "my diabetes",
            "the medication I take",
            "waiting for the operation",
            "my asthma",
            "the hospital appointments",
            "the fatigue",
        ],
        [
            "stops me standing for a whole shift",
            "means I cannot lift anything heavy",
            "flares up when I am on my feet all day",
            "makes mornings the hardest part of the day",
            "has been going on since the accident",
            "is why the doctor signed me off last year",
            "means I have to be near a toilet",
            "comes and goes so I never know how I will be",
        ],
    ),
    "confidence": (
        [
            "walking into an interview",
            "talking to people I do not know",
            "the first day somewhere new",
            "believing I am good at anything",
            "speaking up in a group",
            "ringing an employer",
            "meeting new people",
            "going back to work after so long",
        ],
        [
            "terrifies me more than I like to admit",
            "used to make me freeze completely",
            "feels a bit easier every week now",
            "is something I have avoided for years",
            "makes my hands shake before I even start",
            "knocked me back after the last rejection",
            "seemed impossible before I joined the course",
            "is the thing I am proudest of getting through",
        ],
    ),
    "caring": (
        [
            "looking after my dad",
            "caring for my partner",
            "my mum's dementia",
            "my brother's care needs",
            "being a carer",
            "the carer's allowance",
            "my nan's hospital visits",
            "covering when the carers do not turn up",
        ],
        [
            "takes up most of my week",
            "means I cannot commit to set hours",
            "stops me taking anything full time",
            "is a job in itself nobody pays you for",
            "came before everything else for years",
            "leaves me exhausted by the evening",
            "would stop if I earned over the limit",
            "means my phone has to stay on at work",
        ],
    ),
    "record": (
        [
            "my conviction",
            "the DBS check",
            "my time inside",
            "the gap on my CV from prison",
            "my probation appointments",
            "telling employers about my past",
            "the spent conviction",
            "my licence conditions",
        ],
        [
            "comes up every time I apply for anything",
            "shuts the door before I even get an interview",
            "is the first thing they ask about",
            "means some sectors will never take me",
            "is something I am not ashamed of any more",
            "has to be disclosed on every application form",
            "made me want to give up applying",
            "clashes with the shifts they offered me",
        ],
    ),
    "volunteering": (
        [
            "volunteering at the food bank",
            "the charity shop shifts",
            "helping at the community garden",
            "the voluntary role at the cafe",
            "coaching the under-twelves",
            "the volunteering placement",
            "sorting donations on a Tuesday",
            "helping out at the youth club",
        ],
        [
            "gave me something to get up for",
            "is where I got my first reference in years",
            "got me used to a routine again",
            "showed me I can work in a team",
            "led to a paid job offer in the end",
            "is the best part of my week",
            "built up my confidence without the pressure",
            "gave me something recent to put on my CV",
        ],
    ),
}

ASIDES = ["", "", "", " to be honest", " if I am honest", " most of the time", " these days", " for me anyway"]
OPENERS = ["", "", "Honestly, ", "I mean, ", "To be fair, ", "You know, ", "Well, ", "And "]
GENERAL = [
    "I suppose it depends on the week really.",
    "That is a good question, let me think about it.",
    "It is hard to explain if you have not been through it.",
    "I had not really thought about it like that before.",
    "Some days are better than others, that is all I can say.",
    "I just take each day as it comes at the moment.",
    "It has been a funny old year all things considered.",
    "I would say that is about right, more or less.",
]
QUESTIONS = [
    "Can you tell me a bit more about that?",
    "What has made the biggest difference for you?",
    "How has that affected looking for work?",
    "What would help most right now?",
    "How did you feel about that at the time?",
    "What happened next?",
]


@dataclass(frozen=True)
class Planted:
    transcript: str
    start: int
    end: int
    theme: str


def sentence(rng: random.Random, theme: str) -> str:
    subjects, predicates = THEMES[theme]
    text = f"{rng.choice(OPENERS)}{rng.choice(subjects)} {rng.choice(predicates)}{rng.choice(ASIDES)}."
    return text[0].upper() + text[1:]


FORMATS = ("txt", "md", "vtt", "srt", "docx")


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def _cues(turns: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """(start, end, speaker, text) per turn, at about 2.5 words a second."""
    clock, cues = 0.0, []
    for speaker, said in turns:
        length = max(1.0, len(said.split()) / 2.5)
        cues.append((clock, clock + length, speaker, said))
        clock += length
    return cues


def _docx_bytes(tid: str, turns: list[tuple[str, str]]) -> bytes:
    """A Word file with one paragraph per turn; fixed dates inside and in the zip, so the bytes repeat."""
    import datetime as dt
    import io
    import zipfile

    from docx import Document

    document = Document()
    document.core_properties.created = document.core_properties.modified = dt.datetime(2024, 1, 1)
    document.core_properties.author = "themekit benchmark"
    document.add_heading(f"Interview {tid}", level=1)
    for speaker, said in turns:
        document.add_paragraph(f"{speaker}: {said}")
    raw = io.BytesIO()
    document.save(raw)
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist()):
            dst.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), src.read(name), zipfile.ZIP_DEFLATED)
    return fixed.getvalue()


def render(tid: str, turns: list[tuple[str, str]], fmt: str) -> bytes:
    """One transcript, as (speaker, speech) turns, in ``fmt``."""
    if fmt == "txt":
        return "".join(f"{speaker}: {said}\n\n" for speaker, said in turns).encode()
    if fmt == "md":
        body = "".join(f"**{speaker}:** {said}\n\n" for speaker, said in turns)
        return f"---\nparticipant: {tid}\nmode: generated\n---\n\n# Interview {tid}\n\n{body}".encode()
    if fmt == "vtt":
        cues = "".join(
            f"{n}\n{_stamp(a, '.')} --> {_stamp(b, '.')}\n<v {who}>{said}</v>\n\n"
            for n, (a, b, who, said) in enumerate(_cues(turns), start=1)
        )
        return f"WEBVTT\n\n{cues}".encode()
    if fmt == "srt":
        return "".join(
            f"{n}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{who}: {said}\n\n"
            for n, (a, b, who, said) in enumerate(_cues(turns), start=1)
        ).encode()
    if fmt == "docx":
        return _docx_bytes(tid, turns)
    raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def generate(
    out: str | Path,
    *,
    transcripts: int = 20,
    words: int = 3000,
    seed: int = 0,
    themes: list[str] | None = None,
    general_share: float = 0.1,
    formats: tuple[str, ...] | list[str] = ("txt",),
) -> list[Planted]:
    """Write ``transcripts`` interviews of about ``words`` words each into ``out/transcripts``.

    The planted themes go to ``out/planted.csv`` (outside the transcript folder).
    """
    rng = random.Random(seed)
    names = themes or list(THEMES)
    folder = Path(out) / "transcripts"
    folder.mkdir(parents=True, exist_ok=True)
    planted: list[Planted] = []
    for n in range(1, transcripts + 1):
        tid = f"P{n:03d}"
        mine = rng.sample(names, k=min(len(names), rng.randint(4, 7)))
        text, count = "", 0
        turns: list[tuple[str, str]] = []
        while count < words:
            question = rng.choice(QUESTIONS)
            text += f"Interviewer: {question}\n\n{tid}: "
            turns.append(("Interviewer", question))
            count += len(question.split())
            theme = rng.choice(mine)
            answer = len(text)
            for i in range(rng.randint(2, 5)):
                if i and rng.random() < general_share:
                    said, label = rng.choice(GENERAL), None
                else:
                    said, label = sentence(rng, theme), theme
                if i:
                    text += " "
                if label:
                    planted.append(Planted(tid, len(text), len(text) + len(said), label))
                text += said
                count += len(said.split())
            turns.append((tid, text[answer:]))
            text += "\n\n"
        fmt = formats[(n - 1) % len(formats)]
        (folder / f"{tid}.{fmt}").write_bytes(text.encode() if fmt == "txt" else render(tid, turns, fmt))
    with (Path(out) / "planted.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["transcript", "char_start", "char_end", "theme"])
        writer.writerows((p.transcript, p.start, p.end, p.theme) for p in planted)
    return planted


#: Keywords per planted theme, for the benchmark codebook's rule coding.
KEYWORDS: dict[str, list[str]] = {
    "transport": ["bus", "train", "petrol", "lift", "car", "timetable"],
    "childcare": ["nursery", "childcare", "childminder", "school run", "kids"],
    "housing": ["hostel", "landlord", "damp", "eviction", "accommodation", "deposit"],
    "debt": ["debt", "overdraft", "arrears", "bailiff", "loan", "credit card"],
    "digital": ["online", "email", "laptop", "computer", "password", "wifi"],
    "health": ["pain", "diabetes", "medication", "asthma", "operation", "hospital appointment"],
    "confidence": ["confidence", "nervous", "freeze", "terrifies", "interview nerves"],
    "caring": ["carer", "caring", "dementia", "care needs", "looking after"],
    "record": ["conviction", "DBS", "prison", "probation", "licence conditions"],
    "volunteering": ["volunteering", "volunteer", "charity shop", "food bank", "placement"],
}


def write_codebook(path: str | Path) -> Path:
    """A codebook with one code per planted theme (two themes of five codes)."""
    names = list(THEMES)
    lines = ["schema_version: 1", "name: Benchmark study", "version: 1.0.0", "participant_noun: participant", "themes:"]
    for group, members in (("barriers", names[:5]), ("circumstances", names[5:])):
        lines += [f"  - id: {group}", f"    label: {group.title()}", "    codes:"]
        for theme in members:
            subjects, predicates = THEMES[theme]
            lines += [
                f"      - id: {theme}",
                f"        label: {theme.title()}",
                f"        definition: Talk about {theme} as it bears on finding and keeping work.",
                f"        keywords: [{', '.join(KEYWORDS[theme])}]",
                "        examples:",
                *(f'          - "{s[0].upper() + s[1:]} {p}."' for s, p in zip(subjects[:3], predicates[:3])),
            ]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--transcripts", type=int, default=20)
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="txt", help=f"comma-separated, taken in turn: {', '.join(FORMATS)}")
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    planted = generate(args.out, transcripts=args.transcripts, words=args.words, seed=args.seed, formats=formats)
    print(f"{args.transcripts} transcripts, {len(planted)} planted sentences in {args.out}")


if __name__ == "__main__":
    main()
