"""Training scenarios for the VAD's frame model and the barge-in judge (ids trn_*), built by the
shared corpus generator (the same engine as the public and extra parts, other seeds):

    python3 ../shared/corpus/gen.py --spec scripts/vad_train_spec.py --out target/vad_train

Never scored, never committed: made to give the small models many more examples than the 138
labelled corpus files, of every kind the corpus has (noise events of every kind at every level,
TV, radio, babble, wind, car, hum, tones, line echo of the bot; callers in English and Swahili
over all the voices; backchannels and barge-ins over the bot). Sentences, word lists and voices
are drawn here, none copied from the corpus parts used for scoring. Deterministic (seeded).

TRAIN_N (environment, default 360) sets how many scenarios are made.
"""
import os
import random

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'target', 'vad_train')
WRITE_TRANSCRIPTS = True
N = int(os.environ.get('TRAIN_N', '360'))
R = random.Random(20261207)

EN = [
    'I would like to know when the next train leaves for Nakuru.',
    'Please tell me how much the room costs for two nights.',
    'My water bill looks much higher than last month.',
    'Can you reset the password for my online account?',
    'We need a plumber to fix a leaking pipe in the kitchen.',
    'Is the insurance office open on Saturday morning?',
    'I am calling to confirm the meeting with the lawyer.',
    'The generator stopped working after the storm last night.',
    'Could you send someone to read the electricity meter?',
    'I want to cancel my order from yesterday afternoon.',
    'How long does it take to renew a driving licence?',
    'The doctor asked me to bring my test results today.',
    'Do you deliver gas cylinders to Kilimani?',
    'My daughter needs a uniform in size twelve.',
    'Please check whether my loan application was approved.',
    'We are four people and we want a table by the window.',
    'I paid the rent but the receipt never came.',
    'Can I change the name on the ticket to my brother?',
    'The internet has been down since Monday evening.',
    'I would like a quote for painting three rooms.',
    'Where can I collect my new identity card?',
    'The phone you sold me will not charge anymore.',
    'Please book a taxi to the airport at five tomorrow.',
    'Is there a vet who can see my dog this afternoon?',
]
SW = [
    'Ningependa kujua treni inayofuata inaondoka lini kwenda Nakuru.',
    'Tafadhali niambie chumba kinagharimu kiasi gani kwa usiku mbili.',
    'Bili yangu ya maji ni kubwa kuliko mwezi uliopita.',
    'Naomba unisaidie kubadilisha nenosiri la akaunti yangu.',
    'Tunahitaji fundi wa bomba jikoni leo.',
    'Je, ofisi ya bima iko wazi Jumamosi asubuhi?',
    'Ninapiga simu kuthibitisha mkutano na wakili.',
    'Jenereta ilizimika baada ya mvua kubwa jana usiku.',
    'Nataka kusitisha oda yangu ya jana mchana.',
    'Inachukua muda gani kupata leseni mpya ya udereva?',
    'Daktari aliniambia nilete majibu ya vipimo leo.',
    'Mnaleta mitungi ya gesi hadi Kilimani?',
    'Binti yangu anahitaji sare ya shule.',
    'Tafadhali angalia kama mkopo wangu umekubaliwa.',
    'Tuko watu wanne na tunataka meza karibu na dirisha.',
    'Nimelipa kodi lakini sijapata risiti.',
    'Mtandao haujafanya kazi tangu Jumatatu jioni.',
    'Nitachukua wapi kitambulisho changu kipya?',
    'Simu mliyoniuzia haichaji tena.',
    'Naomba teksi ya kwenda uwanja wa ndege kesho saa kumi na moja.',
]
EN_PAUSED = [
    (['I need to pay for', 'two months'], 'en'), (['My number is zero seven', 'one one', 'four five six'], 'en'),
    (['Umm', 'I think it was on Tuesday'], 'en'), (['The parcel was supposed to come and', 'it never did'], 'en'),
    (['Can you book me for', 'Thursday afternoon'], 'en'), (['So', 'what I want is a refund'], 'en'),
]
SW_PAUSED = [
    (['Nataka kulipa kwa', 'miezi miwili'], 'sw'), (['Nambari yangu ni sifuri saba', 'moja moja', 'nne tano sita'], 'sw'),
    (['Eeh', 'nadhani ilikuwa Jumanne'], 'sw'), (['Mzigo ulitakiwa kufika na', 'haukufika'], 'sw'),
    (['Naomba nafasi', 'Alhamisi mchana'], 'sw'), (['Kwa hiyo', 'nataka kurudishiwa pesa'], 'sw'),
]
BC_EN = ['okay', 'yeah', 'yes', 'right', 'sure', 'uh-huh', 'I see', 'okay okay', 'alright', 'yep', 'mm', 'got it']
BC_SW = ['ndiyo', 'sawa', 'eeh', 'ehe', 'aha', 'haya', 'naam', 'poa', 'kweli', 'sawa sawa', 'ndio', 'aah']
BI_EN = ['Wait.', 'Stop.', 'No no.', 'Hold on.', 'Excuse me, that is wrong.', 'No, I said Friday.', 'Sorry, can I ask something?',
         'Actually I want the other one.', 'Hello? Are you there?', 'That is not what I asked.', 'Yeah but how much is it?',
         'Okay but I need it today.', 'Hang on a second.', 'Can I talk to a person?']
BI_SW = ['Ngoja.', 'Subiri.', 'Hapana.', 'Hapana hapana.', 'Samahani, sio hivyo.', 'Subiri kidogo tafadhali.', 'Sawa lakini bei gani?',
         'Ndiyo lakini nataka kesho.', 'Nataka kuongea na mtu.', 'Hapana, nilisema Ijumaa.', 'Simama kwanza.', 'Eeh, lakini sielewi.']
BOT_EN = ('Thank you for calling. Your appointment is confirmed for Friday at ten in the morning, and the fee is '
          'two thousand shillings payable on arrival. Is there anything else I can help you with today?')
BOT_SW = ('Asante kwa kupiga simu. Miadi yako imethibitishwa Ijumaa saa nne asubuhi, na ada ni shilingi elfu mbili '
          'utakapofika. Kuna kitu kingine naweza kukusaidia leo?')
EN_VOICES = [f'{v}+{s}' for v in ('en-us', 'en-gb', 'en-029', 'en-gb-x-rp', 'en-gb-scotland')
             for s in ['m%d' % i for i in range(1, 8)] + ['f%d' % i for i in range(1, 6)]]
SW_VOICES = ['sw+m%d' % i for i in range(1, 8)] + ['sw+f%d' % i for i in range(1, 5)]
NOISES = ['pink', 'brown', 'white', 'hiss', 'line', 'line60', 'babble', 'street', 'tv', 'radio', 'car', 'wind',
          'hum50', 'hum60', 'crackle', 'cafe']
EVENTS = ['cough', 'breath', 'click', 'rustle', 'sneeze', 'laugh', 'throat', 'door', 'keyboard']
TONES = ['dialtone', 'busy', 'ringback']
HUMS = ['mm-hmm', 'mmh', 'mm', 'mhm', 'mmm']


def voice(lang):
    v = R.choice(SW_VOICES if lang == 'sw' else EN_VOICES)
    return dict(voice=v, rate=R.randint(130, 210), pitch=R.randint(30, 70))


def event(at):
    k = R.random()
    if k < 0.8:
        return dict(role='noise_event', kind=R.choice(EVENTS), at=at, rel_db=R.uniform(-12, 4))
    if k < 0.9:
        return dict(role='noise_event', kind='tone', at=at, rel_db=R.uniform(-16, -6),
                    params=dict(freqs=[float(R.randint(250, 2000))], dur=R.uniform(0.2, 1.5)))
    return dict(role='noise_event', kind=R.choice(TONES), at=at, rel_db=R.uniform(-16, -6), params=dict(dur=R.uniform(1.5, 4.0)))


def bot(lang, start, length, echo):
    d = dict(role='bot', start=start, len=length, text=BOT_SW if lang == 'sw' else BOT_EN)
    if echo:
        d.update(echo_db=R.uniform(-28, -16), echo_voice=R.choice(SW_VOICES if lang == 'sw' else EN_VOICES),
                 echo_rate=R.randint(150, 200), echo_delay_ms=R.randint(20, 80))
    return d


def scenario(i):
    kind = R.random()
    lang = R.choice(['en', 'sw'])
    noise = R.choice(NOISES)
    sid = 'trn_%04d' % i
    if kind < 0.35:       # nothing should trigger: events over a noisy line, with or without the bot
        items, t = [], R.randint(300, 1500)
        with_bot = R.random() < 0.5
        if with_bot:
            items.append(bot(lang, 300, 8000, echo=R.random() < 0.35))
            t = R.randint(600, 2500)
        while t < 7000:
            items.append(event(t))
            t += R.randint(900, 2500)
        return S(sid + '_noise', 'noise_only', 9000, items, noise=noise, noise_rel_db=R.uniform(-40, -14))
    level = R.uniform(-35, -18)
    snr = R.choice([R.uniform(0, 10), R.uniform(8, 30), R.uniform(15, 30)])
    if kind < 0.65:       # one or two caller turns, maybe with pauses, with events around
        items, t = [], R.randint(400, 1500)
        if R.random() < 0.4:
            items.append(event(t))
            t += R.randint(1500, 2500)
        if R.random() < 0.4:
            chunks, lang = R.choice(EN_PAUSED if lang == 'en' else SW_PAUSED)
            pauses = [R.randint(250, 1300) for _ in chunks[1:]]
            items.append(dict(say=chunks, pauses=pauses, at=t, **voice(lang)))
        else:
            items.append(dict(say=R.choice(EN if lang == 'en' else SW), at=t, **voice(lang)))
        if R.random() < 0.5:
            items.append(event('+%d' % R.randint(300, 1200)))
        return S(sid + '_turn', 'single', 4000, items, noise=noise, snr=snr, level_dbfs=level)
    # the bot speaks: backchannels, or a barge-in, maybe echo and events
    items = [bot(lang, 300, R.randint(7000, 9500), echo=R.random() < 0.3)]
    v = voice(lang)
    t = R.randint(200, 2500)
    if R.random() < 0.3:
        items.append(event('bot+%d' % t))
        t += R.randint(1200, 2000)
    for _ in range(R.randint(1, 2)):
        if R.random() < 0.2:
            items.append(dict(role='backchannel', hum=R.choice(HUMS), f0=R.uniform(90, 240), at='bot+%d' % t))
        else:
            w = R.choice(BC_EN if lang == 'en' else BC_SW)
            items.append(dict(role='backchannel', say=w, text=w, at='bot+%d' % t, rel_db=R.uniform(-10, 3), **v))
        t += R.randint(1800, 3000)
    if R.random() < 0.6 and t < 6500:
        say = R.choice(BI_EN if lang == 'en' else BI_SW)
        extra = dict(ramp_ms=R.randint(150, 400), ramp_db=R.uniform(-15, -8)) if R.random() < 0.2 else {}
        items.append(dict(role='bargein', say=say, at='bot+%d' % t, **v, **extra))
    return S(sid + '_bot', 'backchannel', 10000, items, noise=noise, snr=snr, level_dbfs=level)


SCENARIOS = [scenario(i) for i in range(N)]
