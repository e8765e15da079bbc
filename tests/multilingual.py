"""A small parallel text written for the filter tests: an instruction and a three-sentence
answer in English and in every registered language (and two unregistered neighbours)."""

EN_I = "Explain in a few sentences why regular exercise is good for your health."
EN = [
    "Regular exercise strengthens the heart and the lungs.",
    "It also helps you keep a healthy weight and improves your mood.",
    "Doctors recommend at least thirty minutes of activity every day.",
]
TEXTS = {
    "it": (
        "Spiega in poche frasi perché l'esercizio fisico regolare fa bene alla salute.",
        [
            "L'esercizio fisico regolare rafforza il cuore e i polmoni.",
            "Aiuta anche a mantenere un peso sano e migliora l'umore.",
            "I medici consigliano almeno trenta minuti di attività ogni giorno.",
        ],
    ),
    "es": (
        "Explica en pocas frases por qué el ejercicio regular es bueno para la salud.",
        [
            "El ejercicio regular fortalece el corazón y los pulmones.",
            "También ayuda a mantener un peso saludable y mejora el estado de ánimo.",
            "Los médicos recomiendan al menos treinta minutos de actividad cada día.",
        ],
    ),
    "fr": (
        "Explique en quelques phrases pourquoi l'exercice régulier est bon pour la santé.",
        [
            "L'exercice régulier renforce le cœur et les poumons.",
            "Il aide aussi à garder un poids sain et améliore l'humeur.",
            "Les médecins recommandent au moins trente minutes d'activité chaque jour.",
        ],
    ),
    "de": (
        "Erkläre in wenigen Sätzen, warum regelmäßige Bewegung gut für die Gesundheit ist.",
        [
            "Regelmäßige Bewegung stärkt das Herz und die Lunge.",
            "Sie hilft auch, ein gesundes Gewicht zu halten, und verbessert die Stimmung.",
            "Ärzte empfehlen mindestens dreißig Minuten Bewegung pro Tag.",
        ],
    ),
    "pt": (
        "Explique em poucas frases por que o exercício regular faz bem à saúde.",
        [
            "O exercício regular fortalece o coração e os pulmões.",
            "Também ajuda a manter um peso saudável e melhora o humor.",
            "Os médicos recomendam pelo menos trinta minutos de atividade todos os dias.",
        ],
    ),
    "ru": (
        "Объясните в нескольких предложениях, почему регулярные упражнения полезны для здоровья.",
        [
            "Регулярные физические упражнения укрепляют сердце и лёгкие.",
            "Они также помогают поддерживать здоровый вес и улучшают настроение.",
            "Врачи рекомендуют не менее тридцати минут активности каждый день.",
        ],
    ),
    "zh": (
        "用几句话解释为什么经常锻炼对健康有益。",
        [
            "经常锻炼可以增强心脏和肺部功能。",
            "它还能帮助你保持健康的体重，并改善情绪。",
            "医生建议每天至少进行三十分钟的活动。",
        ],
    ),
    "ja": (
        "定期的な運動が健康に良い理由を数文で説明してください。",
        [
            "定期的な運動は心臓と肺を強くします。",
            "健康的な体重を保ち、気分を良くするのにも役立ちます。",
            "医師は毎日少なくとも三十分の運動を勧めています。",
        ],
    ),
    "ko": (
        "규칙적인 운동이 건강에 좋은 이유를 몇 문장으로 설명하세요.",
        [
            "규칙적인 운동은 심장과 폐를 튼튼하게 합니다.",
            "또한 건강한 체중을 유지하고 기분을 좋게 하는 데 도움이 됩니다.",
            "의사들은 매일 최소 삼십 분의 활동을 권장합니다.",
        ],
    ),
    "ar": (
        "اشرح في بضع جمل لماذا تعد التمارين المنتظمة مفيدة لصحتك.",
        [
            "تقوي التمارين المنتظمة القلب والرئتين.",
            "كما تساعدك على الحفاظ على وزن صحي وتحسن مزاجك.",
            "يوصي الأطباء بثلاثين دقيقة على الأقل من النشاط كل يوم.",
        ],
    ),
    "hi": (
        "कुछ वाक्यों में समझाइए कि नियमित व्यायाम आपके स्वास्थ्य के लिए अच्छा क्यों है।",
        [
            "नियमित व्यायाम हृदय और फेफड़ों को मजबूत बनाता है।",
            "यह स्वस्थ वजन बनाए रखने में भी मदद करता है और मन को अच्छा रखता है।",
            "डॉक्टर हर दिन कम से कम तीस मिनट की गतिविधि की सलाह देते हैं।",
        ],
    ),
    "vi": (
        "Hãy giải thích trong vài câu tại sao tập thể dục thường xuyên lại tốt cho sức khỏe.",
        [
            "Tập thể dục thường xuyên giúp tim và phổi khỏe mạnh hơn.",
            "Nó cũng giúp bạn giữ cân nặng hợp lý và cải thiện tâm trạng.",
            "Các bác sĩ khuyên nên vận động ít nhất ba mươi phút mỗi ngày.",
        ],
    ),
    "th": (
        "อธิบายสั้น ๆ ว่าทำไมการออกกำลังกายเป็นประจำจึงดีต่อสุขภาพ",
        [
            "การออกกำลังกายเป็นประจำช่วยให้หัวใจและปอดแข็งแรง",
            "ยังช่วยรักษาน้ำหนักให้เหมาะสมและทำให้อารมณ์ดีขึ้น",
            "แพทย์แนะนำให้ออกกำลังกายอย่างน้อยวันละสามสิบนาที",
        ],
    ),
    "id": (
        "Jelaskan dalam beberapa kalimat mengapa olahraga teratur baik untuk kesehatan.",
        [
            "Olahraga teratur memperkuat jantung dan paru-paru.",
            "Olahraga juga membantu menjaga berat badan yang sehat dan memperbaiki suasana hati.",
            "Dokter menyarankan setidaknya tiga puluh menit aktivitas setiap hari.",
        ],
    ),
    "sw": (
        "Eleza kwa sentensi chache kwa nini mazoezi ya mara kwa mara ni mazuri kwa afya.",
        [
            "Mazoezi ya mara kwa mara huimarisha moyo na mapafu.",
            "Pia husaidia kudumisha uzito mzuri na kuboresha hali ya moyo.",
            "Madaktari wanapendekeza angalau dakika thelathini za mazoezi kila siku.",
        ],
    ),
    # unregistered neighbours
    "uk": (
        "Поясніть кількома реченнями, чому регулярні вправи корисні для здоров'я.",
        [
            "Регулярні фізичні вправи зміцнюють серце та легені.",
            "Вони також допомагають підтримувати здорову вагу й покращують настрій.",
            "Лікарі радять щонайменше тридцять хвилин активності щодня.",
        ],
    ),
    "ms": (
        "Terangkan dalam beberapa ayat mengapa senaman yang kerap baik untuk kesihatan.",
        [
            "Senaman yang kerap menguatkan jantung dan paru-paru.",
            "Ia juga membantu mengekalkan berat badan yang sihat dan memperbaik suasana hati.",
            "Doktor mengesyorkan sekurang-kurangnya tiga puluh minit aktiviti setiap hari.",
        ],
    ),
}
REGISTERED = [lang for lang in TEXTS if lang not in ("uk", "ms")]
JOIN = {"zh": "", "ja": ""}  # sentences follow each other without a space


def joined(lang: str, sentences: list[str]) -> str:
    return JOIN.get(lang, " ").join(sentences)


def pair(lang: str, instruction: str | None = None, output: str | None = None, **overrides) -> dict:
    """A pair from English into ``lang`` (the human text unless fields are given)."""
    ins, sentences = TEXTS[lang]
    row = {
        "id": f"t-{lang}",
        "source": "t",
        "pivot_lang": "en",
        "target_lang": lang,
        "pivot_instruction": EN_I,
        "pivot_input": "",
        "pivot_output": " ".join(EN),
        "target_instruction": ins if instruction is None else instruction,
        "target_input": "",
        "target_output": joined(lang, sentences) if output is None else output,
        "finish_reason": "stop",
        "kept": True,
        "reasons": [],
    }
    row.update(overrides)
    return row
