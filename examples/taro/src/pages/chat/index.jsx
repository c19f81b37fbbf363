import { useRef, useState } from 'react';
import Taro, { useLoad, useUnload } from '@tarojs/taro';
import { Button, Input, Text, View } from '@tarojs/components';
import { createChatSession } from '../../chat';
import './index.css';

export default function Chat() {
  const session = useRef(null);
  const [state, setState] = useState({ status: 'disconnected', error: '', me: '', peer: '', messages: [] });
  const [userId, setUserId] = useState('');
  const [peerId, setPeerId] = useState('');
  const [draft, setDraft] = useState('');

  useLoad(() => {
    // Query parameters override src/config.js (serverUrl, apiServer, appId, appSecret).
    const params = Taro.getCurrentInstance().router?.params || {};
    const overrides = {};
    for (const key of ['serverUrl', 'apiServer', 'appId', 'appSecret']) {
      if (params[key]) overrides[key] = decodeURIComponent(params[key]);
    }
    session.current = createChatSession(overrides);
    session.current.subscribe((s) => setState({ ...s, messages: s.messages.slice() }));
  });
  useUnload(() => session.current?.destroy());

  const signIn = async () => {
    if (!userId || !peerId) return;
    try {
      await session.current.signIn({ userId, peerId });
    } catch (err) {
      setState((s) => ({ ...s, error: err.message }));
    }
  };
  const send = async () => {
    const text = draft.trim();
    if (!text) return;
    setDraft('');
    try {
      await session.current.send(text);
    } catch (err) {
      setState((s) => ({ ...s, error: err.message }));
    }
  };

  return (
    <View className="chat">
      <View className="status">
        {state.status}
        {state.error ? <Text> · {state.error}</Text> : null}
      </View>
      {!state.me ? (
        <View className="signin">
          <Input className="field" value={userId} placeholder="your user id" onInput={(e) => setUserId(e.detail.value)} />
          <Input className="field" value={peerId} placeholder="chat with (user id)" onInput={(e) => setPeerId(e.detail.value)} />
          <Button className="go" onClick={signIn}>Sign in</Button>
        </View>
      ) : (
        <View className="room">
          <View className="peer">{state.me} → {state.peer}</View>
          {state.messages.map((m) => (
            <View key={m.messageId} className={`msg ${m.from === state.me ? 'mine' : 'theirs'}`}>
              <Text className="who">{m.fromName}</Text>
              <Text className="text">{m.content}</Text>
            </View>
          ))}
          <View className="composer">
            <Input className="field" value={draft} placeholder="message" onInput={(e) => setDraft(e.detail.value)} onConfirm={send} />
            <Button className="go" onClick={send}>Send</Button>
          </View>
        </View>
      )}
    </View>
  );
}
